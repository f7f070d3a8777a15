// Builds the native BLAS addon (server/engine/native, N-API + OpenBLAS) into
// dist/native/gowide_blas.node, where the bundled CLI/sidecar (dist/cli.js) and the sources run
// through tsx both find it.
//
// It needs a C compiler, Node's headers and OpenBLAS's development files (Debian:
// `apt-get install -y libopenblas-dev`). OpenBLAS is linked statically when its folder holds
// libopenblas.a (Debian's libopenblas-pthread-dev does), so the addon, and the packaged extension that
// carries it, runs without OpenBLAS installed; GOWIDE_OPENBLAS_LINK=shared links libopenblas.so.0
// instead (then it needs libopenblas0-pthread where it runs). Without OpenBLAS it explains how to get it and exits 0,
// so that builds and CI without it still pass (the engine then trains on plain wasm); a failing
// compile with OpenBLAS present is an error (exit 1).
//
// node-gyp: the copy bundled with npm is used (no extra dependency); a node-gyp installed in the
// project's node_modules is preferred when present. Node's headers are taken from the Node
// installation itself (--nodedir) when it ships them, so nothing is downloaded.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, realpathSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const sourceDir = join(root, 'server/engine/native');
const builtAddon = join(sourceDir, 'build/Release/gowide_blas.node');
const distAddon = join(root, 'dist/native/gowide_blas.node');
const log = (message) => console.log(`[build-native] ${message}`);

/** OpenBLAS include and library folders, or null when its development files are missing. */
function findOpenBlas() {
  const pkgConfig = spawnSync('pkg-config', ['--cflags-only-I', '--libs-only-L', 'openblas'], { encoding: 'utf8' });
  if (pkgConfig.status === 0) {
    const flags = pkgConfig.stdout.trim().split(/\s+/);
    const includeDir = flags.find((f) => f.startsWith('-I'))?.slice(2).replace(/\/$/, '');
    const libDir = flags.find((f) => f.startsWith('-L'))?.slice(2).replace(/\/$/, '');
    if (includeDir && libDir && existsSync(join(includeDir, 'cblas.h'))) return { includeDir, libDir };
  }
  // Debian/Ubuntu layout without pkg-config; the pthread variant first (OpenMP and serial after).
  for (const variant of ['openblas-pthread', 'openblas-openmp', 'openblas-serial']) {
    const includeDir = `/usr/include/x86_64-linux-gnu/${variant}`;
    const libDir = `/usr/lib/x86_64-linux-gnu/${variant}`;
    if (existsSync(join(includeDir, 'cblas.h')) && existsSync(join(libDir, 'libopenblas.so'))) return { includeDir, libDir };
  }
  return null;
}

function findNodeGyp() {
  try {
    return createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    // not a project dependency: use npm's bundled copy
  }
  const npmRoots = [
    join(dirname(process.execPath), '../lib/node_modules/npm'),
    process.env.npm_execpath ? join(dirname(process.env.npm_execpath), '..') : '',
  ];
  for (const npmRoot of npmRoots.filter(Boolean)) {
    const candidate = join(npmRoot, 'node_modules/node-gyp/bin/node-gyp.js');
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  return null;
}

/** The Node installation's own headers folder (prefix with include/node/node_api.h), if any. */
function localNodeDir() {
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include/node/node_api.h')) ? realpathSync(prefix) : null;
}

function run(args) {
  log(`node ${args.join(' ')}`);
  const result = spawnSync(process.execPath, args, { cwd: sourceDir, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`[build-native] FAILED: node-gyp exited with ${result.status ?? result.signal}`);
    process.exit(1);
  }
}

/** OpenBLAS's licence (BSD-3-Clause) asks binary copies to carry its notice: the Debian copyright file goes beside the addon. */
function copyOpenBlasNotice() {
  const docs = '/usr/share/doc';
  const found = existsSync(docs) && readdirSync(docs).filter((d) => d.startsWith('libopenblas')).map((d) => join(docs, d, 'copyright')).find(existsSync);
  if (found) copyFileSync(found, join(dirname(distAddon), 'OpenBLAS-copyright.txt'));
  else log(`WARNING: OpenBLAS's copyright file (${docs}/libopenblas*/copyright) not found: add its notice beside ${distAddon} before shipping it`);
}

const openBlas = findOpenBlas();
if (openBlas == null) {
  log('SKIPPED: OpenBLAS development files (cblas.h, libopenblas.so) not found.');
  log('To build the native BLAS kernels: apt-get install -y libopenblas-dev && node scripts/build-native.mjs');
  log('Without them gowide trains on the plain wasm backend (slower dense layers).');
  process.exit(0);
}
const nodeGyp = findNodeGyp();
if (nodeGyp == null) {
  console.error('[build-native] FAILED: node-gyp not found (neither in node_modules nor bundled with npm): npm install -D node-gyp');
  process.exit(1);
}
const nodeDir = localNodeDir();
const nodeDirArgs = nodeDir ? [`--nodedir=${nodeDir}`] : [];
log(`OpenBLAS: ${openBlas.includeDir}, ${openBlas.libDir}; node-gyp: ${nodeGyp}; Node headers: ${nodeDir ?? 'node-gyp default'}`);
const linkStatic = process.env.GOWIDE_OPENBLAS_LINK !== 'shared' && existsSync(join(openBlas.libDir, 'libopenblas.a'));
log(`OpenBLAS linked ${linkStatic ? 'statically (libopenblas.a)' : 'as a shared library (libopenblas.so.0 needed at run time)'}`);
run([
  nodeGyp, 'configure', ...nodeDirArgs, '--',
  `-Dopenblas_include_dir=${openBlas.includeDir}`, `-Dopenblas_lib_dir=${openBlas.libDir}`, `-Dopenblas_static=${linkStatic ? 1 : 0}`,
]);
run([nodeGyp, 'build', ...nodeDirArgs]);
mkdirSync(dirname(distAddon), { recursive: true });
// Copy then rename: a running sidecar or CLI has the old file mapped, and overwriting it in place
// (same inode) would crash that process; the rename gives the new build a new inode.
copyFileSync(builtAddon, `${distAddon}.tmp`);
renameSync(`${distAddon}.tmp`, distAddon);
if (linkStatic) copyOpenBlasNotice();
log(`OK: ${distAddon}`);
