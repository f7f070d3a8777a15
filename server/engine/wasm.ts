// The WebAssembly backend. Its .wasm binaries sit next to dist/cli.js when bundled (the build copies
// them) and in the package's dist/ folder when run from source.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cpuSummary } from './device';
import { BackendLoadError } from './errors';
import { registerFastGradients } from './kernels/gradients';
import { registerMissingWasmKernels } from './kernels/wasm-gradients';
import { nativeBlasAddonPath, openBlasCore, registerNativeBlasKernels } from './native/blas-kernels';

const PROBE_FILE = 'tfjs-backend-wasm-simd.wasm';
let pathsSet = false;
/** Kernels gowide added to or replaced in the wasm backend (training gradients TF.js lacks). */
let addedKernels: string[] = [];
/** What the native OpenBLAS addon did: the kernels it took over, or why it could not load. */
let nativeBlas = 'not loaded yet';

function wasmFolderCandidates(): string[] {
  const candidates = [__dirname];
  try {
    candidates.push(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist');
  } catch {
    // Not resolvable from a bundle outside the project; the other candidates remain.
  }
  candidates.push(join(__dirname, '..', '..', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'));
  return candidates;
}

/** Points the wasm backend at its binaries (once, before it initialises). */
export function prepareWasmBackend(): void {
  if (pathsSet) return;
  const candidates = wasmFolderCandidates();
  const folder = candidates.find((dir) => existsSync(join(dir, PROBE_FILE)));
  if (!folder) {
    throw new BackendLoadError(
      `the WebAssembly binaries (${PROBE_FILE}) were not found in ${candidates.join(' or ')}; run "npm run build", which copies them into dist/`,
    );
  }
  setWasmPaths(folder.endsWith('/') ? folder : folder + '/');
  registerFastGradients();
  addedKernels = registerMissingWasmKernels();
  // After the gradient kernels, so that the native BatchMatMul wins over their replacement.
  const native = registerNativeBlasKernels();
  nativeBlas = native.ok
    ? `native OpenBLAS kernels (${nativeBlasAddonPath()}; OpenBLAS's ${openBlasCore() ?? 'unnamed'} kernels for this CPU): ${native.kernels.join(', ')}`
    : native.reason;
  pathsSet = true;
}

export function wasmKernelsAddedByGowide(): string[] {
  return addedKernels;
}

export function nativeBlasStatus(): string {
  return nativeBlas;
}

/** Device text once the wasm backend is active. */
export async function wasmDevice(): Promise<string> {
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  const features = [simd ? 'SIMD' : 'no SIMD', threads ? 'threads' : 'one thread'];
  return `CPU: ${cpuSummary()}, WebAssembly ${features.join(', ')}`;
}
