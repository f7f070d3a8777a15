// package.json's contributions against the code: commands, settings, activation, schema, engines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../../extension/commands';
import { BACKEND_CHOICES } from '../../extension/engine-info-view';
import { LAUNCH_DEFAULTS, LAUNCHER_NAMES } from '../../server/protocol';

const root = path.resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const contributes = manifest.contributes;
const declaredCommands: string[] = contributes.commands.map((c: { command: string }) => c.command);

function versionOf(range: string): number[] {
  const match = /(\d+)\.(\d+)\.(\d+)/.exec(range);
  assert.ok(match, `no version in ${range}`);
  return match.slice(1).map(Number);
}
function atMost(a: number[], b: number[]): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return true;
}

test('every contributed command has a handler in the command table, and every handler is contributed', () => {
  assert.deepEqual([...declaredCommands].sort(), Object.keys(COMMANDS).sort());
  for (const command of contributes.commands) {
    assert.equal(command.category, 'Go Wide', command.command);
    assert.ok(command.title.length > 0);
  }
});

test('the two commands the foundation issue names are there', () => {
  const titles = new Map(contributes.commands.map((c: { command: string; title: string }) => [c.command, c.title]));
  assert.equal(titles.get('gowide.restartSidecar'), 'Restart Training Sidecar');
  assert.equal(titles.get('gowide.showEngineInfo'), 'Show Engine Info');
});

test('menus and welcome links only name contributed commands (or built-in ones)', () => {
  for (const items of Object.values(contributes.menus) as { command: string }[][]) {
    for (const item of items) assert.ok(declaredCommands.includes(item.command), item.command);
  }
  for (const welcome of contributes.viewsWelcome) {
    for (const [, id] of welcome.contents.matchAll(/\(command:([\w.]+)\)/g)) {
      assert.ok(declaredCommands.includes(id) || id.startsWith('vscode.'), id);
    }
  }
});

test('views: the activity-bar container holds the experiments view with a welcome for the empty state', () => {
  const container = contributes.viewsContainers.activitybar.find((c: { id: string }) => c.id === 'gowide');
  assert.ok(container);
  assert.ok(existsSync(path.join(root, container.icon)), container.icon);
  assert.deepEqual(contributes.views.gowide.map((v: { id: string }) => v.id), ['gowide.experiments', 'gowide.loss']);
  assert.equal(contributes.views.gowide[1].type, 'webview');
  assert.ok(contributes.viewsWelcome.some((w: { view: string; contents: string }) => w.view === 'gowide.experiments' && w.contents.includes('command:gowide.newExperiment')));
});

test('activation: experiment files in the workspace, no "*"', () => {
  assert.ok(manifest.activationEvents.includes('workspaceContains:**/*.gowide.json'));
  assert.ok(!manifest.activationEvents.includes('*'));
  assert.equal(manifest.main, './dist/extension.js');
});

test('settings: backend choices match the protocol; the sidecar command is restricted in untrusted folders', () => {
  const properties = contributes.configuration.properties;
  assert.deepEqual(properties['gowide.backend'].enum, [...BACKEND_CHOICES]);
  assert.equal(properties['gowide.backend'].enumDescriptions.length, BACKEND_CHOICES.length);
  assert.deepEqual(properties['gowide.sidecar.command'].type, ['array', 'string']);
  assert.ok(properties['gowide.trace.server'], 'vscode-languageclient reads <client id>.trace.server');
  assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.deepEqual(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations, ['gowide.sidecar.command']);
  assert.equal(manifest.capabilities.virtualWorkspaces.supported, false);
});

test('launcher settings: names from the protocol, defaults the launchers\' own; the extension runs where the workspace is', () => {
  const properties = contributes.configuration.properties;
  assert.deepEqual(properties['gowide.launcher'].enum, [...LAUNCHER_NAMES]);
  assert.equal(properties['gowide.launcher'].enumDescriptions.length, LAUNCHER_NAMES.length);
  assert.equal(properties['gowide.launcher'].default, 'local');
  assert.equal(properties['gowide.localJobs'].default, LAUNCH_DEFAULTS.jobs);
  assert.equal(properties['gowide.slurm.maxRetries'].default, LAUNCH_DEFAULTS.maxRetries);
  assert.equal(properties['gowide.slurm.gpusPerJob'].default, 0);
  assert.deepEqual(properties['gowide.slurm.options'].default, []);
  // On a cluster's login node under Remote-SSH, sbatch and the shared file system are on the remote side.
  assert.deepEqual(manifest.extensionKind, ['workspace']);
  for (const key of ['gowide.launcher', 'gowide.localJobs', 'gowide.slurm.options', 'gowide.slurm.gpusPerJob', 'gowide.slurm.maxRetries']) {
    assert.equal(properties[key].scope, 'machine-overridable', key);
  }
});

test('engines.vscode is no older than the @types/vscode and vscode-languageclient it is built against', () => {
  const engine = versionOf(manifest.engines.vscode);
  const types = versionOf(JSON.parse(readFileSync(path.join(root, 'node_modules/@types/vscode/package.json'), 'utf8')).version);
  assert.ok(atMost(types, engine), `@types/vscode ${types.join('.')} is newer than engines.vscode ${manifest.engines.vscode}`);
  assert.equal(manifest.devDependencies['@types/vscode'], manifest.engines.vscode);
  const client = JSON.parse(readFileSync(path.join(root, 'node_modules/vscode-languageclient/package.json'), 'utf8'));
  assert.ok(atMost(versionOf(client.engines.vscode), engine), `vscode-languageclient needs VS Code ${client.engines.vscode}`);
});

test('icon, license and repository are set so vsce packages without prompting', () => {
  assert.ok(existsSync(path.join(root, manifest.icon)));
  assert.ok(readFileSync(path.join(root, manifest.icon)).subarray(1, 4).equals(Buffer.from('PNG')));
  assert.ok(existsSync(path.join(root, 'LICENSE')));
  assert.equal(manifest.license, 'MIT');
  assert.match(manifest.repository.url, /^https:\/\//);
});

test('the experiment schema the manifest points at is in dist after a build', (t) => {
  const [validation] = contributes.jsonValidation;
  assert.equal(validation.fileMatch, '*.gowide.json');
  const source = path.join(root, 'server/experiment/gowide.schema.json');
  if (!existsSync(source)) {
    t.skip('server/experiment/gowide.schema.json is not written yet');
    return;
  }
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'pipe' });
  const built = path.join(root, validation.url);
  assert.ok(existsSync(built), `${validation.url} missing after the build`);
  const schema = JSON.parse(readFileSync(built, 'utf8'));
  assert.equal(typeof schema, 'object');
});
