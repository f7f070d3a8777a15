// Native convolution kernels for the TF.js wasm backend: Conv2D, FusedConv2D (+ bias, activation;
// also as GowideConv, with a gradient, for training: ../kernels/fused-conv.ts),
// Conv2DBackpropFilter, Conv2DBackpropInput (im2col + OpenBLAS sgemm, or a direct convolution for
// small channel counts), MaxPoolGrad and MaxPool (windows that tile the input), computed
// by the gowide_blas addon (conv.c, pooling.c) in place on the wasm heap, like blas-kernels.ts.
//
// Everything they do not cover (NCHW, non-float32) goes to the kernel they
// replaced: for the conv gradients that is wasm-gradients.ts' XNNPACK composition, so call
// registerMissingWasmKernels() first. registerNativeBlasKernels() (blas-kernels.ts) registers these
// after its matrix products, unless GOWIDE_NATIVE_CONV=0; it also exports registerNativeConvKernels
// and unregisterNativeConvKernels to switch them on and off alone (side-by-side benchmarks).
//
// Work is split over the addon's pool threads (poolThreads), each running im2col on cache-sized
// chunks of output pixels and a single-threaded product on them, or the direct convolution on a
// share of the images.
//
// Measured per shape class (scripts/bench-conv.ts --kernels, batch 128, ms per call, 2 cores with
// AVX-512 shared with other work, so +-30%): XNNPACK(-composed) -> native
//                        Conv2D        BackpropFilter  BackpropInput
//   28x28  1->16 3x3     6.7 ->  4.8    21.0 ->  1.9     9.0 ->  2.7
//   28x28 16->16 3x3    15.8 ->  6.4    29.2 ->  7.2    16.8 -> 11.4
//   14x14 16->16 3x3     3.6 ->  3.8     6.7 ->  1.8     4.0 ->  3.2
//   28x28 64->64 3x3     176 ->   39     354 ->   36     185 ->   50   (2 free cores)
//   14x14 64->64 3x3      43 ->   11      74 ->  9.2      47 ->   13
//    7x7  64->64 3x3    11.3 ->  3.6    18.0 ->  5.4    12.8 ->  5.0
//   14x14 32->64 3x3 s2  6.1 ->  2.7    11.2 ->  2.6    47.6 ->  8.9
//   14x14 32->64 1x1 s2  6.6 ->  4.4     7.2 ->  0.4     8.8 ->  2.5
// Native is as fast or faster in every class, so no shape goes back to XNNPACK.

import '@tensorflow/tfjs-backend-wasm';
import { backend_util, getKernel, registerKernel, unregisterKernel, util } from '@tensorflow/tfjs-core';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { conv2DInfo, convAttrs, pool2DInfo } from '../kernels/conv-info';
import { WASM, WasmKernelReplacements, wasmKernelConfig } from '../kernels/registry';
import type { WasmKernelArgs } from '../kernels/registry';
import { poolThreads } from './pool-threads';

/** The convolution functions of gowide_blas.node (see conv.c and pooling.c). */
export interface ConvAddon {
  /** out = activation(conv(x, filter) + bias); bias, activation and alpha are optional. */
  conv2d(
    x: Float32Array,
    filter: Float32Array,
    out: Float32Array,
    geometry: Int32Array,
    bias?: Float32Array | null,
    activation?: number,
    alpha?: number,
  ): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dfilter: Float32Array, geometry: Int32Array): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  maxPoolGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  /** Windows that tile x only (stride = window, no padding); y is passed twice. */
  maxPool(x: Float32Array, y: Float32Array, y2: Float32Array, geometry: Int32Array): void;
}

let addon: ConvAddon | null = null;

/** Output pixels per im2col chunk: GOWIDE_CONV_CHUNK_ROWS, else the addon's default (0). */
function chunkRows(): number {
  const requested = Number(process.env.GOWIDE_CONV_CHUNK_ROWS);
  return Number.isInteger(requested) && requested > 0 ? requested : 0;
}

/** The addon's geometry array (enum Geometry in gowide_addon.h) for a conv or pool. */
function geometry(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
    chunkRows(),
    poolThreads(),
  ]);
}

const view = (backend: BackendWasm, tensor: TensorInfo): Float32Array => backend.typedArrayFromHeap(tensor) as Float32Array;

/** True when the conv is one the addon computes: NHWC, float32, non-negative padding. */
function covered(info: backend_util.Conv2DInfo, ...tensors: TensorInfo[]): boolean {
  return (
    info.dataFormat === 'channelsLast' &&
    tensors.every((tensor) => tensor.dtype === 'float32') &&
    info.padInfo.top >= 0 &&
    info.padInfo.left >= 0
  );
}

/** Activation codes the addon applies (as in blas-kernels.ts: the wasm backend's numbering). */
const ACTIVATION_CODES: Record<string, number> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 4, sigmoid: 5, elu: 6 };

function forwardConvInfo(x: TensorInfo, filter: TensorInfo, attrs: NamedAttrMap): backend_util.Conv2DInfo {
  return conv2DInfo(x.shape, filter.shape, attrs, { dilated: true });
}

function nativeConv2d(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const info = forwardConvInfo(x, filter, attrs);
  if (addon == null || !covered(info, x, filter)) return replacements.runFallback('Conv2D', args);
  const out = backend.makeOutput(info.outShape, 'float32');
  addon.conv2d(view(backend, x), view(backend, filter), view(backend, out), geometry(info));
  return out;
}

/** Conv2D + bias + activation (what tf.layers.conv2d runs outside gradients, and for linear layers). */
function nativeFusedConv2d(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const bias = inputs.bias ?? null;
  const info = forwardConvInfo(x, filter, attrs);
  const activation = ACTIVATION_CODES[String(attrs.activation ?? 'linear')];
  const biasFits =
    bias == null || (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === info.outChannels);
  if (addon == null || !covered(info, x, filter) || activation === undefined || !biasFits || inputs.preluActivationWeights != null) {
    return replacements.runFallback('FusedConv2D', args);
  }
  const alpha = typeof attrs.leakyreluAlpha === 'number' ? attrs.leakyreluAlpha : 0.2;
  const out = backend.makeOutput(info.outShape, 'float32');
  addon.conv2d(
    view(backend, x),
    view(backend, filter),
    view(backend, out),
    geometry(info),
    bias ? view(backend, bias) : null,
    activation,
    alpha,
  );
  return out;
}

function nativeConv2dBackpropFilter(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { filterShape } = convAttrs(attrs);
  const info = conv2DInfo(x.shape, filterShape, attrs);
  if (addon == null || !covered(info, x, dy)) return replacements.runFallback('Conv2DBackpropFilter', args);
  const out = backend.makeOutput(filterShape, 'float32');
  addon.conv2dBackpropFilter(view(backend, x), view(backend, dy), view(backend, out), geometry(info));
  return out;
}

function nativeConv2dBackpropInput(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const { inputShape } = convAttrs(attrs);
  const info = conv2DInfo(inputShape, filter.shape, attrs);
  if (addon == null || !covered(info, dy, filter)) return replacements.runFallback('Conv2DBackpropInput', args);
  const out = backend.makeOutput(inputShape, 'float32');
  addon.conv2dBackpropInput(view(backend, dy), view(backend, filter), view(backend, out), geometry(info));
  return out;
}

function nativeMaxPoolGrad(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const input = inputs.input as TensorInfo;
  if (addon == null || dy.dtype !== 'float32' || input.dtype !== 'float32') return replacements.runFallback('MaxPoolGrad', args);
  const info = pool2DInfo(input.shape, attrs);
  const out = backend.makeOutput(input.shape, 'float32');
  addon.maxPoolGrad(view(backend, input), view(backend, dy), view(backend, out), geometry(info));
  return out;
}

/** MaxPool where the windows tile the input (2x2 stride 2); the wasm kernel otherwise. */
function nativeMaxPool(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  if (addon == null || typeof addon.maxPool !== 'function' || x.dtype !== 'float32' || x.shape.length !== 4) return replacements.runFallback('MaxPool', args);
  const info = pool2DInfo(x.shape, attrs);
  const tiled =
    info.strideHeight === info.filterHeight &&
    info.strideWidth === info.filterWidth &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    info.outHeight * info.filterHeight <= info.inHeight &&
    info.outWidth * info.filterWidth <= info.inWidth &&
    info.dataFormat === 'channelsLast';
  if (!tiled) return replacements.runFallback('MaxPool', args);
  const out = backend.makeOutput(info.outShape, 'float32');
  const y = view(backend, out);
  if (y.length > 0) addon.maxPool(view(backend, x), y, y, geometry(info));
  return out;
}

/** GowideConv: FusedConv2D under gowide's own name, so that it can have a gradient
 *  (../kernels/fused-conv.ts) and TF.js does not split it in training. Same inputs and attrs. */
export const CONV = 'GowideConv';

/** Ours, each falling back on the kernel registered before it. */
const replacements = new WasmKernelReplacements<WasmKernelArgs>([
  { kernelName: 'Conv2D', kernelFunc: nativeConv2d },
  { kernelName: 'FusedConv2D', kernelFunc: nativeFusedConv2d },
  { kernelName: 'Conv2DBackpropFilter', kernelFunc: nativeConv2dBackpropFilter },
  { kernelName: 'Conv2DBackpropInput', kernelFunc: nativeConv2dBackpropInput },
  { kernelName: 'MaxPoolGrad', kernelFunc: nativeMaxPoolGrad },
  { kernelName: 'MaxPool', kernelFunc: nativeMaxPool },
]);

/**
 * Registers the native conv kernels on the 'wasm' backend, computed by `addonExports` (the loaded
 * gowide_blas.node, found at `addonPath`), keeping the kernels they replace as fallbacks.
 * Idempotent. Returns the kernel names, or why nothing was registered (a stale addon).
 */
export function registerConvKernels(
  addonExports: object,
  addonPath: string,
): { ok: true; kernels: string[] } | { ok: false; reason: string } {
  const candidate = addonExports as Partial<ConvAddon>;
  if (typeof candidate.conv2d !== 'function' || typeof candidate.conv2dBackpropInput !== 'function') {
    return { ok: false, reason: `native addon ${addonPath} has no conv kernels (stale build): run \`node scripts/build-native.mjs\`` };
  }
  addon = candidate as ConvAddon;
  const kernels = replacements.installAll();
  // Its fallback is FusedConv2D's, which takes the same inputs and attrs.
  if (getKernel(CONV, WASM) == null) registerKernel(wasmKernelConfig(CONV, nativeFusedConv2d));
  return { ok: true, kernels: [...kernels, CONV] };
}

/** Puts back the kernels registerNativeConvKernels replaced and removes GowideConv; returns their names. */
export function unregisterConvKernels(): string[] {
  const restored = replacements.restoreAll();
  if (getKernel(CONV, WASM) != null) {
    unregisterKernel(CONV, WASM);
    restored.push(CONV);
  }
  return restored;
}
