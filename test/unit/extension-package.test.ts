// `npm run package` builds one .vsix per platform Dawn has a binary for, each holding only what the
// extension needs at run time there: its own Dawn binary, and on the build platform (linux-x64) the
// native addon with OpenBLAS linked in. The sidecar inside this platform's package starts with no
// node_modules beside it, on wasm with the native kernels and on webgpu through SwiftShader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { resolveSidecarLaunch } from '../../extension/sidecar-launch';
import { NATIVE_ADDON, NATIVE_ADDON_TARGET, NATIVE_DIR, PACKAGE_TARGETS, packageFile, WEBGPU_DIR, type PackageTarget } from '../../scripts/package-targets';
import { initializeThrough, zipEntries, type ZipEntry } from './extension-test-helpers';
import { skipWithoutNative } from './kernel-test-helpers';
import { SWIFTSHADER_ICD, swiftshaderOrSkip } from './swiftshader';

const root = path.resolve(__dirname, '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TARGETS = Object.keys(PACKAGE_TARGETS) as PackageTarget[];
const WEBGPU = `extension/${WEBGPU_DIR}`;

/** What may ship: the vsix metadata, the manifest, docs, the icons, the built dist/ (no source maps), Dawn and the addon. */
const ALLOWED = [
  /^\[Content_Types\]\.xml$/,
  /^extension\.vsixmanifest$/,
  /^extension\/package\.json$/,
  /^extension\/(readme|changelog)\.md$/,
  /^extension\/LICENSE\.txt$/,
  /^extension\/media\/(icon\.png|gowide\.svg)$/,
  /^extension\/dist\/(?!node_modules\/|native\/).+\.(js|wasm|json|css|html|svg|png|ttf|woff2?)$/,
  new RegExp(`^${WEBGPU}/(package\\.json|index\\.js|LICENSE\\.md|dist/[a-z0-9-]+/[^/]+)$`),
  new RegExp(`^extension/${NATIVE_DIR}/(gowide_blas\\.node|OpenBLAS-copyright\\.txt)$`),
];

let packaged: Map<PackageTarget, ZipEntry[]> | undefined;
/** All targets, packaged once for the file (about 40 s here). */
function packages(): Map<PackageTarget, ZipEntry[]> {
  if (!packaged) {
    execFileSync(npm, ['run', 'package'], { cwd: root, stdio: 'pipe', env: { ...process.env, CI: '1' }, input: '' });
    packaged = new Map(TARGETS.map((target) => [target, zipEntries(readFileSync(path.join(root, packageFile(target))))]));
  }
  return packaged;
}
const namesOf = (target: PackageTarget) => packages().get(target)!.map((entry) => entry.name);

/** The package's files unpacked as an installed extension; returns the extension folder. */
function install(target: PackageTarget, cleanUp: (fn: () => void) => void): string {
  const installed = mkdtempSync(path.join(tmpdir(), 'gowide-vsix-'));
  cleanUp(() => rmSync(installed, { recursive: true, force: true }));
  for (const entry of packages().get(target)!) {
    if (!entry.name.startsWith('extension/') || entry.name.endsWith('/')) continue;
    const file = path.join(installed, entry.name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, entry.read());
  }
  return path.join(installed, 'extension');
}

test('npm run package makes one .vsix per target with only run-time files', { timeout: 300_000 }, () => {
  const required = [
    'extension/package.json',
    'extension/LICENSE.txt',
    'extension/readme.md',
    'extension/media/icon.png',
    'extension/media/gowide.svg',
    'extension/dist/extension.js',
    'extension/dist/cli.js',
    'extension/dist/gowide.schema.json',
    'extension/dist/tfjs-backend-wasm.wasm',
    'extension/dist/tfjs-backend-wasm-simd.wasm',
    `${WEBGPU}/package.json`,
    `${WEBGPU}/index.js`,
    `${WEBGPU}/LICENSE.md`,
  ];
  for (const target of TARGETS) {
    const names = namesOf(target);
    const unexpected = names.filter((name) => !ALLOWED.some((pattern) => pattern.test(name)));
    assert.deepEqual(unexpected, [], `${target}: files that should not ship`);
    for (const name of names) assert.doesNotMatch(name, /\.ts$|\.map$|^extension\/(src|server|extension|test|scripts)\//, `${target}: ${name}`);
    for (const name of required) assert.ok(names.includes(name), `${target}: ${name} missing from the .vsix`);
    const manifest = packages().get(target)!.find((entry) => entry.name === 'extension.vsixmanifest')!.read().toString();
    assert.match(manifest, new RegExp(`TargetPlatform="${target}"`), `${target}: the manifest does not name its platform`);
  }
});

test("each package carries exactly its target's Dawn binary", { timeout: 300_000 }, () => {
  for (const target of TARGETS) {
    const folder = `${WEBGPU}/dist/${PACKAGE_TARGETS[target]}`;
    const dawn = namesOf(target).filter((name) => name.startsWith(`${WEBGPU}/dist/`));
    assert.deepEqual(dawn.filter((name) => name.endsWith('.node')), [`${folder}/dawn.node`], target);
    // Dawn on Windows loads the DirectX shader compilers from beside dawn.node.
    const libraries = dawn.filter((name) => name.endsWith('.dll')).map((name) => path.basename(name)).sort();
    assert.deepEqual(libraries, target.startsWith('win32-') ? ['d3dcompiler_47.dll', 'dxcompiler.dll'] : [], target);
    assert.deepEqual(dawn.filter((name) => !name.startsWith(`${folder}/`)), [], `${target}: another target's Dawn files`);
  }
});

test('the native addon ships only for the platform it is built on, with OpenBLAS linked in', { timeout: 300_000 }, (t) => {
  for (const target of TARGETS.filter((name) => name !== NATIVE_ADDON_TARGET)) {
    assert.deepEqual(namesOf(target).filter((name) => name.includes('/native/')), [], `${target} carries a native addon built for ${NATIVE_ADDON_TARGET}`);
  }
  if (skipWithoutNative(t, existsSync(path.join(root, NATIVE_ADDON)) ? null : `${NATIVE_ADDON} is not built (npm run build:native)`)) return;
  assert.ok(NATIVE_ADDON_TARGET in PACKAGE_TARGETS, `no package for the build platform ${NATIVE_ADDON_TARGET}`);
  const target = NATIVE_ADDON_TARGET as PackageTarget;
  const names = namesOf(target);
  for (const file of [NATIVE_ADDON, `${NATIVE_DIR}/OpenBLAS-copyright.txt`]) assert.ok(names.includes(`extension/${file}`), `${target}: ${file} missing`);
  const extension = install(target, t.after.bind(t));
  const libraries = execFileSync('ldd', [path.join(extension, NATIVE_ADDON)], { encoding: 'utf8' });
  assert.doesNotMatch(libraries, /libopenblas|libgfortran/, `the packaged addon needs OpenBLAS installed:\n${libraries}`);
  assert.doesNotMatch(libraries, /not found/, libraries);
});

test("the sidecar in this platform's unpacked .vsix starts with no node_modules: wasm with the native kernels", { timeout: 300_000 }, async (t) => {
  const target = NATIVE_ADDON_TARGET as PackageTarget;
  const extensionPath = install(target, t.after.bind(t));
  const launch = resolveSidecarLaunch(undefined, { extensionPath, execPath: process.execPath });
  const { serverInfo, info } = await initializeThrough(launch, 'wasm');
  assert.equal(serverInfo?.name, 'gowide-sidecar');
  assert.equal(info.active, 'wasm', JSON.stringify(info));
  if (skipWithoutNative(t, existsSync(path.join(root, NATIVE_ADDON)) ? null : `${NATIVE_ADDON} is not built (npm run build:native)`)) return;
  const packagedAddon = path.join(extensionPath, NATIVE_ADDON);
  assert.ok(info.notes.some((note) => note.startsWith(`native OpenBLAS kernels (${packagedAddon}; OpenBLAS's `)), `the packaged addon did not load: ${JSON.stringify(info.notes)}`);
});

test("the sidecar in this platform's unpacked .vsix trains on webgpu with its own Dawn (SwiftShader)", { timeout: 300_000 }, async (t) => {
  if (!swiftshaderOrSkip(t)) return;
  const extensionPath = install(NATIVE_ADDON_TARGET as PackageTarget, t.after.bind(t));
  const launch = resolveSidecarLaunch(undefined, { extensionPath, execPath: process.execPath });
  const { info } = await initializeThrough({ ...launch, env: { ...launch.env, VK_ICD_FILENAMES: SWIFTSHADER_ICD } }, 'webgpu');
  assert.equal(info.active, 'webgpu', JSON.stringify(info.backends));
  assert.match(info.device, /WebGPU \(Dawn\)/, info.device);
});
