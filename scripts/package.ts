// Builds one platform-specific .vsix per target Dawn (the `webgpu` package) has a binary for:
// gowide-<target>.vsix in the repository root.
//
//   node --import tsx scripts/package.ts [target ...]     (npm run package; no target: all of them)
//
// Each package holds the production bundles and, in dist/node_modules/webgpu/, the webgpu package's
// JavaScript with only its target's Dawn binary (on Windows with the DirectX shader compilers Dawn
// loads from beside it): the bundled sidecar (dist/cli.js) keeps `webgpu` external, and its
// import('webgpu') resolves there. The native OpenBLAS addon goes only into the package of the
// platform it was built on, and only with OpenBLAS linked into it (no libopenblas.so.0 needed where
// it runs); the other targets train on plain wasm on the CPU.
//
// Each target is staged in a temporary folder (the run-time files and .vscodeignore), so dist/ in the
// working tree stays as the build left it.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isPackageTarget, NATIVE_ADDON, NATIVE_ADDON_TARGET, NATIVE_DIR, PACKAGE_TARGETS, packageFile, WEBGPU_DIR, type PackageTarget } from './package-targets';

const root = resolve(__dirname, '..');
/** Files of the webgpu package the sidecar loads at run time (index.js imports only Node's own modules). */
const WEBGPU_FILES = ['package.json', 'index.js', 'LICENSE.md'];
const STAGED_FILES = ['README.md', 'LICENSE', '.vscodeignore', 'media/icon.png', 'media/gowide.svg'];

const log = (message: string) => console.log(`[package] ${message}`);

/** Throws unless the addon runs without OpenBLAS installed: it must not need libopenblas as a shared library. */
function checkAddonSelfContained(addon: string): void {
  const dynamic = execFileSync('readelf', ['-d', addon], { encoding: 'utf8' });
  if (/NEEDED.*libopenblas/.test(dynamic)) {
    throw new Error(
      `${addon} links libopenblas.so.0 dynamically, so the package would need OpenBLAS installed where it runs. ` +
        'Install libopenblas-dev (its libopenblas.a) and rebuild with `node scripts/build-native.mjs` (without GOWIDE_OPENBLAS_LINK=shared)',
    );
  }
}

function stage(target: PackageTarget): string {
  const dir = mkdtempSync(join(tmpdir(), `gowide-package-${target}-`));
  for (const file of STAGED_FILES) cpSync(join(root, file), join(dir, file));
  // The bundles are built already: vsce must not run the prepublish build in the staging folder.
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  delete manifest.scripts;
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  const nativeDir = join(root, NATIVE_DIR);
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true, filter: (from) => from !== nativeDir });

  const webgpuFrom = join(root, 'node_modules/webgpu');
  for (const file of WEBGPU_FILES) cpSync(join(webgpuFrom, file), join(dir, WEBGPU_DIR, file));
  const dawnFolder = PACKAGE_TARGETS[target];
  const dawnFrom = join(webgpuFrom, 'dist', dawnFolder);
  if (!existsSync(join(dawnFrom, 'dawn.node'))) throw new Error(`${dawnFrom}/dawn.node is missing: run npm ci`);
  cpSync(dawnFrom, join(dir, WEBGPU_DIR, 'dist', dawnFolder), { recursive: true });

  if (target !== NATIVE_ADDON_TARGET) return dir;
  if (existsSync(join(root, NATIVE_ADDON))) {
    checkAddonSelfContained(join(root, NATIVE_ADDON));
    cpSync(nativeDir, join(dir, NATIVE_DIR), { recursive: true });
  } else {
    log(`${target}: no ${NATIVE_ADDON} (npm run build:native), so this package trains on plain wasm on the CPU`);
  }
  return dir;
}

function packageTarget(target: PackageTarget): void {
  const dir = stage(target);
  try {
    const out = join(root, packageFile(target));
    const vsce = join(root, 'node_modules/@vscode/vsce/vsce');
    execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--target', target, '--out', out], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    log(`${packageFile(target)}: ${(statSync(out).size / 1e6).toFixed(1)} MB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !isPackageTarget(name));
if (unknown.length > 0) {
  console.error(`[package] unknown target ${unknown.join(', ')}: choose from ${Object.keys(PACKAGE_TARGETS).join(', ')}`);
  process.exit(1);
}
const targets = (requested.length > 0 ? requested : Object.keys(PACKAGE_TARGETS)) as PackageTarget[];
execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), '--production'], { cwd: root, stdio: 'inherit' });
for (const target of targets) packageTarget(target);
