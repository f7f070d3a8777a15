// The TensorFlow (libtensorflow) backends of @tensorflow/tfjs-node-gpu and @tensorflow/tfjs-node (gowide's own
// N-API addon for the wasm backend is server/engine/native/, a different thing).
// Both are optional dependencies kept out of the bundle, so they are loaded with a plain require and
// register a backend named "tensorflow" in the TF.js engine. tfjs-core keeps its engine and kernel
// registry on globalThis, so the copy of tfjs-core they load shares its registry with our bundled one.
import * as tf from '@tensorflow/tfjs';
import { BackendLoadError, errorMessage } from './errors';
import { cpuSummary, nvidiaDriverVersion, nvidiaGpuNames } from './device';

type TfjsNodePackage = '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu';

/** Which native package registered the "tensorflow" backend in this process, if any. */
let loadedPackage: TfjsNodePackage | undefined;

function requireTfjsNode(pkg: TfjsNodePackage): void {
  // Literal requires so esbuild leaves them as run-time requires of the externals.
  if (pkg === '@tensorflow/tfjs-node-gpu') require('@tensorflow/tfjs-node-gpu');
  else require('@tensorflow/tfjs-node');
}

/** Loads the package so that the "tensorflow" backend is registered; returns the device text. */
export function loadTfjsNodeBackend(gpu: boolean): string {
  const pkg: TfjsNodePackage = gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  if (loadedPackage && loadedPackage !== pkg) {
    throw new BackendLoadError(
      `not probed: ${loadedPackage} already provides the "tensorflow" backend in this process (the two cannot be loaded together)`,
    );
  }
  if (!loadedPackage) {
    try {
      requireTfjsNode(pkg);
    } catch (error) {
      throw new BackendLoadError(describeTfjsNodeFailure(pkg, gpu, error));
    }
    if (!tf.findBackendFactory('tensorflow')) {
      throw new BackendLoadError(
        `${pkg} loaded but its "tensorflow" backend did not appear in the TF.js engine this build uses (tfjs ${tf.version.tfjs}); install the same version of ${pkg} as @tensorflow/tfjs`,
      );
    }
    loadedPackage = pkg;
  }
  if (gpu) {
    const names = nvidiaGpuNames();
    return `GPU: ${names.length > 0 ? names.join(', ') : 'NVIDIA (CUDA)'}, libtensorflow with CUDA`;
  }
  return `CPU: ${cpuSummary()}, libtensorflow`;
}

const CUDA_NEEDS =
  'tfjs-node-gpu 4.22 is built against libtensorflow 2.9.1, which needs CUDA 11.2 (libcudart.so.11.0) and cuDNN 8.1 (libcudnn.so.8); CUDA 12/13 installs do not provide these libraries';

function describeTfjsNodeFailure(pkg: TfjsNodePackage, gpu: boolean, error: unknown): string {
  const message = errorMessage(error);
  const code = (error as { code?: string } | undefined)?.code;
  if (code === 'MODULE_NOT_FOUND' && message.includes(`'${pkg}'`)) {
    return (
      `${pkg} is not installed. It is an optional dependency whose install script downloads libtensorflow ` +
      `from storage.googleapis.com; npm drops it when that download fails. To use it, run ` +
      `"npm install ${pkg}" in the gowide folder on a machine that can reach storage.googleapis.com` +
      (gpu ? ` (and has CUDA 11.2 + cuDNN 8.1)` : '')
    );
  }
  const missingCudaLib = /(lib(?:cudart|cudnn|cublas|cublasLt|cufft|curand|cusolver|cusparse)\.so[.\d]*)/.exec(message)?.[1];
  if (missingCudaLib) {
    const driver = nvidiaDriverVersion();
    return (
      `${pkg} could not load ${missingCudaLib}: ${CUDA_NEEDS}. Install CUDA 11.2 and cuDNN 8.1 and put their lib64 ` +
      `folders on LD_LIBRARY_PATH` +
      (driver ? ` (NVIDIA driver ${driver} is loaded)` : ' (no NVIDIA driver is loaded on this machine)')
    );
  }
  if (/libtensorflow/.test(message) || /tfjs_binding\.node/.test(message)) {
    return (
      `${pkg} is installed but its native part is missing (${firstLine(message)}). Its install script must ` +
      `download libtensorflow 2.9.1: run "npm rebuild ${pkg}" on a machine that can reach storage.googleapis.com`
    );
  }
  return `${pkg} failed to load: ${firstLine(message)}`;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
