// Native matrix-product kernels for the TF.js wasm backend: BatchMatMul and _FusedMatMul computed
// by OpenBLAS (or the addon's register tiles) through a small N-API addon (this folder's C files,
// gowide_addon.h says which does what; built by scripts/build-native.mjs). The addon reads and writes the backend's tensors in place, through
// Float32Array views of the WebAssembly heap: nothing is copied.
//
// Dense layers run forward through _FusedMatMul (matMul + bias + activation in one kernel) outside
// training, and through GowideDense (the same, ours: ../kernels/dense.ts) in training, where TF.js
// would split it; backward through BatchMatMul with one transposed operand (dx = dy W^T,
// dW = x^T dy). All land in cblas_sgemm here, which handles the transposes itself.
//
// Composition with registerMissingWasmKernels() (../kernels/wasm-gradients.ts): call theirs
// first, then registerNativeBlasKernels(). Ours then wins for BatchMatMul and keeps theirs as the
// fallback for what the addon does not cover (non-float32 operands, batch shapes that broadcast
// other than "equal or 1"). Called the other way round it still works, but their kernel would
// transpose operands before handing them to ours, a wasted memory pass.
//
// Conv2D and its gradients and MaxPoolGrad are in conv-kernels.ts (im2col + sgemm in the same
// addon); Tile, Sum, Mean, the broadcasting binary ops and the batch-norm gradient in
// elementwise-kernels.ts; registerNativeBlasKernels() registers them too.

import '@tensorflow/tfjs-backend-wasm'; // registers the wasm backend and its kernels first
import { broadcast_util, getKernel, registerKernel, unregisterKernel, util } from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WASM, WasmKernelReplacements, wasmKernelConfig } from '../kernels/registry';
import type { WasmKernelArgs } from '../kernels/registry';
import { registerConvKernels, unregisterConvKernels } from './conv-kernels';
import { poolThreads } from './pool-threads';
import { registerElementwiseKernels, unregisterElementwiseKernels } from './elementwise-kernels';
import { registerAttentionKernels, unregisterAttentionKernels } from './attention-kernels';
const ADDON_FILE = 'gowide_blas.node';

/** What gowide_blas.node exports for products (see sgemm.c). */
export interface BlasAddon {
  /**
   * out[i] = activation(op(a[i % batchA]) x op(b[i % batchB]) + bias) for i < max(batchA, batchB);
   * op(a[i]) is m x k, op(b[i]) is k x n, row-major. bias: null or length n. A product of 2^22+
   * multiply-adds is split over `threads` threads of the addon's pool.
   */
  sgemm(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
    bias: Float32Array | null,
    activation: number,
    alpha: number,
    threads: number,
  ): void;
  setThreads(count: number): void;
  getThreads(): number;
  /** The kernels OpenBLAS chose for this CPU; absent from builds before it. */
  blasCore?(): string;
}

/** Activation codes the addon applies (the wasm backend's FusableActivation numbering). */
const ACTIVATION_CODES: Record<string, number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  leakyrelu: 4,
  sigmoid: 5,
  elu: 6,
};

/** Why there is no addon: packages carry it for linux-x64 only (the one platform it is built on). */
function notBuiltReason(): string {
  return (
    `no native BLAS addon for ${process.platform}-${process.arch} (gowide's packages carry it for linux-x64 only; ` +
    'from source: `apt-get install libopenblas-dev && node scripts/build-native.mjs`), so the CPU trains on plain wasm'
  );
}

/** Where the addon may be: next to the bundled dist/cli.js, or the build outputs when run from source. */
export function addonCandidates(): string[] {
  const candidates: string[] = [];
  if (process.env.GOWIDE_NATIVE_BLAS) candidates.push(process.env.GOWIDE_NATIVE_BLAS);
  // Bundled: __dirname is dist/ (dist/cli.js), the addon is dist/native/gowide_blas.node.
  candidates.push(join(__dirname, 'native', ADDON_FILE));
  // From source (tsx): __dirname is server/engine/native.
  candidates.push(join(__dirname, 'build', 'Release', ADDON_FILE));
  candidates.push(join(__dirname, '..', '..', '..', 'dist', 'native', ADDON_FILE));
  return candidates;
}

/**
 * OpenBLAS threads: GOWIDE_BLAS_THREADS, else 1. Measured on 2 cores (scripts/bench-mlp.ts), one
 * thread trains the 784-7x256 and 16x128 MLPs 1.4-1.6x faster than two: the products of a
 * batch-128 step are small, and the wasm backend's single thread needs a core for the rest.
 */
function blasThreadsSetting(): number {
  const requested = Number(process.env.GOWIDE_BLAS_THREADS);
  return Number.isInteger(requested) && requested > 0 ? requested : 1;
}

type AddonLoad = { ok: true; addon: BlasAddon; path: string } | { ok: false; reason: string };
let cachedLoad: AddonLoad | undefined;

/** The kernels OpenBLAS chose for this CPU ("SkylakeX"; "Prescott", its generic ones, where it does
 *  not know the CPU), or undefined without the addon. The same seed trains to other accuracies under
 *  other kernels, so runs record it. */
export function openBlasCore(): string | undefined {
  const load = loadBlasAddon();
  return load.ok ? load.addon.blasCore?.() : undefined;
}

/** Loads gowide_blas.node once; the result (addon or reason) is cached. */
export function loadBlasAddon(): AddonLoad {
  if (cachedLoad) return cachedLoad;
  const found = addonCandidates().find((candidate) => existsSync(candidate));
  if (found == null) {
    cachedLoad = { ok: false, reason: notBuiltReason() };
    return cachedLoad;
  }
  try {
    // process.dlopen rather than require: bundlers leave it alone, and it only loads .node files.
    // OpenBLAS reads this when it loads: its idle worker threads stop spinning after ~2^4 cycles
    // instead of ~2^28, so they do not compete with the wasm backend's element-wise kernels.
    process.env.OPENBLAS_THREAD_TIMEOUT ??= '4';
    const holder: { exports: Partial<BlasAddon> } = { exports: {} };
    process.dlopen(holder, found);
    const addon = holder.exports;
    if (typeof addon.sgemm !== 'function' || typeof addon.setThreads !== 'function') {
      throw new Error('it does not export sgemm/setThreads (stale build?)');
    }
    addon.setThreads(blasThreadsSetting());
    cachedLoad = { ok: true, addon: addon as BlasAddon, path: found };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    cachedLoad = {
      ok: false,
      reason: `native BLAS addon ${found} failed to load (${message}), so the CPU trains on plain wasm; from source: install OpenBLAS (apt-get install libopenblas-dev) and rebuild with \`node scripts/build-native.mjs\``,
    };
  }
  return cachedLoad;
}

// ---------------------------------------------------------------------------------------------
// Kernels

let blas: BlasAddon | null = null;

/** The geometry of a (batched) matrix product, or null when the addon cannot compute it. */
interface ProductGeometry {
  batchA: number;
  batchB: number;
  m: number;
  n: number;
  k: number;
  outShape: number[];
}

function productGeometry(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): ProductGeometry | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const aRows = a.shape[a.shape.length - 2];
  const aColumns = a.shape[a.shape.length - 1];
  const bRows = b.shape[b.shape.length - 2];
  const bColumns = b.shape[b.shape.length - 1];
  const m = transposeA ? aColumns : aRows;
  const k = transposeA ? aRows : aColumns;
  const n = transposeB ? bRows : bColumns;
  if ((transposeB ? bColumns : bRows) !== k) return null; // the original kernel reports the mismatch
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  // Flattened batches pair up index by index only when equal or one of them is 1; otherwise
  // (e.g. [2,1] x [1,3] batch shapes) the fallback broadcasts properly.
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
  const batchShape = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return { batchA, batchB, m, n, k, outShape: [...batchShape, m, n] };
}

function runSgemm(
  backend: BackendWasm,
  a: TensorInfo,
  b: TensorInfo,
  geometry: ProductGeometry,
  transposeA: boolean,
  transposeB: boolean,
  bias: TensorInfo | null,
  activation: number,
  alpha: number,
): TensorInfo {
  if (blas == null) throw new Error('native BLAS addon not loaded');
  const out = backend.makeOutput(geometry.outShape, 'float32');
  // Views are taken after makeOutput: allocating may grow (and so replace) the wasm heap buffer.
  const view = (tensor: TensorInfo): Float32Array => backend.typedArrayFromHeap(tensor) as Float32Array;
  // Split over the pool's threads (poolThreads): with the second core idle, 2 gave the wide
  // transformer 803 -> 1,087 samples/s (CPU 160 -> 179 ms a step); with other jobs on both cores
  // about even (728 -> 709 at load 2-2.5).
  blas.sgemm(view(a), view(b), view(out), geometry.batchA, geometry.batchB, geometry.m, geometry.n, geometry.k, transposeA, transposeB, bias ? view(bias) : null, activation, alpha, poolThreads());
  return out;
}

function nativeBatchMatMul(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const a = inputs.a as TensorInfo;
  const b = inputs.b as TensorInfo;
  const transposeA = Boolean(attrs.transposeA);
  const transposeB = Boolean(attrs.transposeB);
  const geometry = productGeometry(a, b, transposeA, transposeB);
  if (geometry == null) return replacements.runFallback('BatchMatMul', args);
  return runSgemm(backend, a, b, geometry, transposeA, transposeB, null, ACTIVATION_CODES.linear, 0);
}

function nativeFusedMatMul(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const a = inputs.a as TensorInfo;
  const b = inputs.b as TensorInfo;
  const bias = inputs.bias ?? null;
  const transposeA = Boolean(attrs.transposeA);
  const transposeB = Boolean(attrs.transposeB);
  const activation = ACTIVATION_CODES[String(attrs.activation ?? 'linear')];
  const geometry = productGeometry(a, b, transposeA, transposeB);
  const biasFits =
    bias == null || (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === geometry?.n);
  // prelu (per-channel weights) and unusual biases go to the backend's own fused kernel.
  if (geometry == null || activation === undefined || !biasFits || inputs.preluActivationWeights != null) {
    return replacements.runFallback('_FusedMatMul', args);
  }
  const alpha = typeof attrs.leakyreluAlpha === 'number' ? attrs.leakyreluAlpha : 0.2;
  return runSgemm(backend, a, b, geometry, transposeA, transposeB, bias, activation, alpha);
}

/** GowideDense: activation(x W + bias) for x [m, k] and W [k, n] (attrs.activation 'linear' or
 *  'relu'); ../kernels/dense.ts checks the shapes and registers its gradient. */
export const DENSE = 'GowideDense';

function nativeDense(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const kernel = inputs.kernel as TensorInfo;
  const geometry = productGeometry(x, kernel, false, false);
  if (geometry == null) throw new Error(`${DENSE}: x ${JSON.stringify(x.shape)} and kernel ${JSON.stringify(kernel.shape)} are not float32 matrices that multiply`);
  return runSgemm(backend, x, kernel, geometry, false, false, inputs.bias ?? null, ACTIVATION_CODES[String(attrs.activation)], 0);
}

/** Ours, each falling back on the kernel registered before it (the wasm backend's, or wasm-gradients' replacement). */
const replacements = new WasmKernelReplacements<WasmKernelArgs>([
  { kernelName: 'BatchMatMul', kernelFunc: nativeBatchMatMul },
  { kernelName: '_FusedMatMul', kernelFunc: nativeFusedMatMul },
]);

/**
 * Registers the native BLAS kernels on the 'wasm' backend (BatchMatMul, _FusedMatMul), then the
 * native conv kernels of conv-kernels.ts (Conv2D and its gradients, MaxPoolGrad) unless
 * GOWIDE_NATIVE_CONV=0 and the element-wise kernels of elementwise-kernels.ts (Tile, Sum, Mean,
 * binary ops, the batch-norm gradient), after the attention kernels of attention-kernels.ts, unless
 * GOWIDE_NATIVE_ELEMENTWISE=0, keeping the kernels they
 * replace as fallbacks. Idempotent. Call after
 * registerMissingWasmKernels() so that ours win over its replacements. Returns the registered
 * kernel names, or why nothing was registered (the addon is missing or does not load).
 */
export function registerNativeBlasKernels(): { ok: true; kernels: string[] } | { ok: false; reason: string } {
  const load = loadBlasAddon();
  if (!load.ok) return { ok: false, reason: load.reason };
  blas = load.addon;
  // A kernel with nothing to fall back on is left as the backend has it.
  const kernels = replacements.installAll();
  if (getKernel(DENSE, WASM) == null) registerKernel(wasmKernelConfig(DENSE, nativeDense));
  kernels.push(DENSE);
  const conv = registerNativeConvKernels();
  if (conv.ok) kernels.push(...conv.kernels);
  if (process.env.GOWIDE_NATIVE_ELEMENTWISE !== '0') {
    const attention = registerAttentionKernels(load.addon, load.path);
    if (attention.ok) kernels.push(...attention.kernels);
    const elementwise = registerElementwiseKernels(load.addon, load.path);
    if (elementwise.ok) kernels.push(...elementwise.kernels);
  }
  return { ok: true, kernels };
}

/**
 * Registers only the native conv kernels (see conv-kernels.ts); GOWIDE_NATIVE_CONV=0 turns them off.
 * Returns their names, or why they were not registered.
 */
export function registerNativeConvKernels(): { ok: true; kernels: string[] } | { ok: false; reason: string } {
  if (process.env.GOWIDE_NATIVE_CONV === '0') return { ok: false, reason: 'native conv kernels off (GOWIDE_NATIVE_CONV=0)' };
  const load = loadBlasAddon();
  if (!load.ok) return { ok: false, reason: load.reason };
  return registerConvKernels(load.addon, load.path);
}

/** Puts back the kernels registerNativeConvKernels replaced; returns their names. */
export function unregisterNativeConvKernels(): string[] {
  return unregisterConvKernels();
}

/**
 * Puts back the kernels registerNativeBlasKernels replaced, the conv and element-wise kernels included (for
 * side-by-side benchmarks, or to switch the native kernels off at run time). Returns the kernel
 * names restored.
 */
export function unregisterNativeBlasKernels(): string[] {
  const restored = replacements.restoreAll();
  if (getKernel(DENSE, WASM) != null) {
    unregisterKernel(DENSE, WASM);
    restored.push(DENSE);
  }
  restored.push(...unregisterConvKernels());
  restored.push(...unregisterElementwiseKernels());
  restored.push(...unregisterAttentionKernels());
  return restored;
}

/** The loaded addon's path, for `gowide info`; null when it did not load. */
export function nativeBlasAddonPath(): string | null {
  const load = loadBlasAddon();
  return load.ok ? load.path : null;
}
