// `npm run package` builds a .vsix holding only what the extension needs at run time, and the
// sidecar inside it starts with no node_modules next to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { resolveSidecarLaunch } from '../../extension/sidecar-launch';
import { initializeThrough, zipEntries, type ZipEntry } from './extension-test-helpers';

const root = path.resolve(__dirname, '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** What may ship: the vsix metadata, the manifest, docs, the icons and the built dist/ (no source maps). */
const ALLOWED = [
  /^\[Content_Types\]\.xml$/,
  /^extension\.vsixmanifest$/,
  /^extension\/package\.json$/,
  /^extension\/(readme|changelog)\.md$/,
  /^extension\/LICENSE\.txt$/,
  /^extension\/media\/(icon\.png|gowide\.svg)$/,
  /^extension\/dist\/.+\.(js|wasm|json|css|html|svg|png|ttf|woff2?)$/,
  /^extension\/dist\/native\/gowide_blas\.node$/,
];

let packaged: ZipEntry[] | undefined;
function packageOnce(): ZipEntry[] {
  if (!packaged) {
    execFileSync(npm, ['run', 'package'], { cwd: root, stdio: 'pipe', env: { ...process.env, CI: '1' }, input: '' });
    packaged = zipEntries(readFileSync(path.join(root, 'gowide.vsix')));
  }
  return packaged;
}

test('npm run package makes gowide.vsix with only run-time files', { timeout: 120_000 }, () => {
  const names = packageOnce().map((entry) => entry.name);
  const unexpected = names.filter((name) => !ALLOWED.some((pattern) => pattern.test(name)));
  assert.deepEqual(unexpected, [], 'files that should not ship');
  for (const name of names) {
    assert.doesNotMatch(name, /node_modules|\.ts$|\.map$|^extension\/(src|server|extension|test|scripts)\//, name);
  }
  const required = [
    'extension/package.json',
    'extension/LICENSE.txt',
    'extension/media/icon.png',
    'extension/media/gowide.svg',
    'extension/dist/extension.js',
    'extension/dist/tfjs-backend-wasm.wasm',
    'extension/dist/tfjs-backend-wasm-simd.wasm',
  ];
  // Parts other issues write ship once they exist.
  if (existsSync(path.join(root, 'server/cli.ts'))) required.push('extension/dist/cli.js');
  if (existsSync(path.join(root, 'server/experiment/gowide.schema.json'))) required.push('extension/dist/gowide.schema.json');
  if (existsSync(path.join(root, 'README.md'))) required.push('extension/readme.md');
  for (const name of required) assert.ok(names.includes(name), `${name} missing from the .vsix`);
});

test('the sidecar in the unpacked .vsix starts on wasm with no node_modules', { timeout: 120_000 }, async (t) => {
  if (!existsSync(path.join(root, 'server/cli.ts'))) {
    t.skip('the CLI (server/cli.ts) is not there yet');
    return;
  }
  const installed = mkdtempSync(path.join(tmpdir(), 'gowide-vsix-'));
  t.after(() => rmSync(installed, { recursive: true, force: true }));
  for (const entry of packageOnce()) {
    if (!entry.name.startsWith('extension/') || entry.name.endsWith('/')) continue;
    const target = path.join(installed, entry.name);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, entry.read());
  }
  const extensionPath = path.join(installed, 'extension');
  const launch = resolveSidecarLaunch(undefined, { extensionPath, execPath: process.execPath });
  const { serverInfo, info } = await initializeThrough(launch, 'wasm');
  assert.equal(serverInfo?.name, 'gowide-sidecar');
  assert.equal(info.active, 'wasm', JSON.stringify(info));
});
