// `npm run package` builds a .vsix holding only what the extension needs at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** File names from a zip's central directory (the .vsix is a zip; no unzip tool needed). */
function zipEntries(zip: Buffer): string[] {
  const endOfCentralDirectory = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(endOfCentralDirectory >= 0, 'not a zip file');
  const count = zip.readUInt16LE(endOfCentralDirectory + 10);
  let offset = zip.readUInt32LE(endOfCentralDirectory + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(offset), 0x02014b50, 'bad central directory entry');
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    names.push(zip.toString('utf8', offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

/** What may ship: the vsix metadata, the manifest, docs, the icons and the built dist/ (no source maps). */
const ALLOWED = [
  /^\[Content_Types\]\.xml$/,
  /^extension\.vsixmanifest$/,
  /^extension\/package\.json$/,
  /^extension\/(readme|changelog)\.md$/,
  /^extension\/LICENSE\.txt$/,
  /^extension\/media\/(icon\.png|gowide\.svg)$/,
  /^extension\/dist\/.+\.(js|wasm|json|css|html|svg|png|ttf|woff2?)$/,
];

test('npm run package makes gowide.vsix with only run-time files', { timeout: 120_000 }, () => {
  execFileSync(npm, ['run', 'package'], { cwd: root, stdio: 'pipe', env: { ...process.env, CI: '1' }, input: '' });
  const entries = zipEntries(readFileSync(path.join(root, 'gowide.vsix')));
  const unexpected = entries.filter((name) => !ALLOWED.some((pattern) => pattern.test(name)));
  assert.deepEqual(unexpected, [], 'files that should not ship');
  for (const name of entries) {
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
  for (const name of required) assert.ok(entries.includes(name), `${name} missing from the .vsix`);
});
