import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { bundledCliPath, launchSettingProblem, resolveSidecarLaunch } from '../../extension/sidecar-launch';

const context = { extensionPath: '/ext/gowide', execPath: '/opt/code/code', workspaceFolder: '/home/u/project' };

test('no setting: the host runtime runs the bundled CLI as Node, in the workspace folder', () => {
  for (const setting of [undefined, [], '', '   ']) {
    const launch = resolveSidecarLaunch(setting, context);
    assert.equal(launch.command, '/opt/code/code');
    assert.deepEqual(launch.args.slice(2), [path.join('/ext/gowide', 'dist', 'cli.js'), 'sidecar', '--stdio']);
    assert.equal(launch.args[0], '-e');
    assert.deepEqual(launch.env, { ELECTRON_RUN_AS_NODE: '1' });
    assert.equal(launch.shell, false);
    assert.equal(launch.cwd, '/home/u/project');
  }
});

test('an array setting is spawned as is, with ${extensionPath} and ${workspaceFolder} replaced', () => {
  const launch = resolveSidecarLaunch(['ssh', 'gpu-box', 'gowide', 'sidecar', '--stdio'], context);
  assert.deepEqual([launch.command, ...launch.args], ['ssh', 'gpu-box', 'gowide', 'sidecar', '--stdio']);
  assert.equal(launch.shell, false);
  assert.deepEqual(launch.env, {});
  const local = resolveSidecarLaunch(['node', '${extensionPath}/dist/cli.js', 'sidecar', '--stdio', '--runs', '${workspaceFolder}/runs'], context);
  assert.deepEqual(local.args, ['/ext/gowide/dist/cli.js', 'sidecar', '--stdio', '--runs', '/home/u/project/runs']);
});

test('a string setting runs through the shell', () => {
  const launch = resolveSidecarLaunch("ssh gpu-box 'cd ~/exp && gowide sidecar --stdio'", context);
  assert.equal(launch.shell, true);
  assert.equal(launch.command, "ssh gpu-box 'cd ~/exp && gowide sidecar --stdio'");
  assert.deepEqual(launch.args, []);
});

test('a malformed setting falls back to the bundled sidecar and is reported', () => {
  assert.equal(launchSettingProblem(['ok']), undefined);
  assert.equal(launchSettingProblem('ok'), undefined);
  assert.equal(launchSettingProblem(undefined), undefined);
  assert.match(launchSettingProblem([1, 2]) ?? '', /array of strings/);
  assert.match(launchSettingProblem({ command: 'x' }) ?? '', /gowide\.sidecar\.command/);
  assert.equal(resolveSidecarLaunch([1, 2], context).command, context.execPath);
});

test('without a workspace folder the sidecar runs in the extension folder', () => {
  assert.equal(resolveSidecarLaunch(undefined, { extensionPath: '/ext', execPath: '/n' }).cwd, '/ext');
});

test('the default launch really runs the CLI main with the sidecar arguments and its exit code', (t) => {
  // A stand-in extension folder whose dist/cli.js exports main() the way the real bundle does.
  const extensionPath = mkdtempSync(path.join(tmpdir(), 'gowide-launch-'));
  t.after(() => rmSync(extensionPath, { recursive: true, force: true }));
  mkdirSync(path.join(extensionPath, 'dist'));
  writeFileSync(
    bundledCliPath(extensionPath),
    'exports.main = async (argv) => { process.stdout.write(JSON.stringify({ argv, runAsNode: process.env.ELECTRON_RUN_AS_NODE })); return 7; };\n' +
      'if (require.main === module) throw new Error("must not run as the main module under the bootstrap");\n',
  );
  const launch = resolveSidecarLaunch(undefined, { extensionPath, execPath: process.execPath });
  const result = spawnSync(launch.command, launch.args, { env: { ...process.env, ...launch.env }, cwd: launch.cwd, encoding: 'utf8' });
  assert.equal(result.stderr, '');
  assert.equal(result.status, 7);
  assert.deepEqual(JSON.parse(result.stdout), { argv: ['sidecar', '--stdio'], runAsNode: '1' });
});

test('a failing CLI main exits 1 with its error on stderr', (t) => {
  const extensionPath = mkdtempSync(path.join(tmpdir(), 'gowide-launch-'));
  t.after(() => rmSync(extensionPath, { recursive: true, force: true }));
  mkdirSync(path.join(extensionPath, 'dist'));
  writeFileSync(bundledCliPath(extensionPath), 'exports.main = async () => { throw new Error("no engine"); };\n');
  const launch = resolveSidecarLaunch(undefined, { extensionPath, execPath: process.execPath });
  const result = spawnSync(launch.command, launch.args, { env: { ...process.env, ...launch.env }, encoding: 'utf8' });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /no engine/);
});
