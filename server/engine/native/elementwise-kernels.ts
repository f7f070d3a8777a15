// Native memory-bound kernels for the TF.js wasm backend, computed by the gowide_blas addon
// (elementwise.c, softmax.c, gather.c, batch_norm.c, layer_norm.c, adam.c) in place on the wasm
// heap like blas-kernels.ts and conv-kernels.ts:
//
//   Tile                                  the wasm kernel computes a broadcast index per element
//                                         (~10 ns each); BatchNorm's gradient tiles 1/sqrt(var)
//                                         over the whole activation, LayerNorm tiles its moments
//   Sum, Mean                             over any axes that merge into [outer, reduce, inner]; the
//                                         wasm kernels transpose the reduced axes last first
//   Add, Sub, Multiply, RealDiv,          float32 with broadcasting: the wasm kernels' broadcast
//   SquaredDifference                     path is again an index computation per element
//   Exp, Erf, Rsqrt, Sqrt, Log, Tanh,     float32; the wasm kernels compute these one scalar call
//   Sigmoid                               at a time (Erf and Exp: ~10 ns a value)
//   Transpose                             float32, axes merged where they stay neighbours; the wasm
//                                         kernel walks the input per element (attention's heads)
//   Softmax                               over the last axis, with a vectorized exp
//   GatherV2                              float32 rows along axis 0 (embeddings): the wasm kernel
//                                         checks every index in JavaScript with a closure each
//   FusedBatchNorm                        statistics of one length (per channel, or LayerNorm's
//                                         full-size tiles): the wasm kernel indexes each input per
//                                         element
//   GowideBatchNormGrad                   our own: the five gradients of per-channel FusedBatchNorm
//                                         in one pass (see ../kernels/gradients.ts, which calls it)
//   GowideErfGrad                         our own: erf's gradient in one pass instead of four
//                                         (Square, Neg, Exp, Multiply; GELU's backward pass)
//   GowideGelu, GowideGeluGrad            our own: tf.layers' 'gelu', x * 0.5 (1 + erf(x / sqrt 2)),
//                                         and its gradient, one pass each instead of 5 and ~8
//                                         kernels (../kernels/gelu.ts)
//   GowideReluGrad, GowideSquareGrad      our own: relu's and square's gradients in one pass
//                                         instead of Step + Cast + Multiply and two Multiply
//   GowideAddRelu                         our own: max(0, a + b), a residual add and its ReLU in
//                                         one pass (../kernels/add-relu.ts)
//   GowideBatchNormTrain,                 our own: per-channel batch normalization in training (the
//   GowideBatchNormTrainGrad              batch statistics computed inside) and its gradient through
//                                         the statistics, two passes each instead of ~12 kernels
//                                         (../kernels/fused-normalization.ts)
//   GowideLayerNorm, GowideLayerNormGrad  our own: layer normalization over the last axis and its
//                                         gradient, one pass each instead of moments, four Tiles and
//                                         the batch-norm kernel (../kernels/fused-normalization.ts)
//   GowideAddLayerNorm(Grad)              the same of a + b: a residual add and its LayerNorm
//   GowideAdam                            our own: one Adam step of a variable (new value and both
//                                         moments) in one pass instead of ~12 kernels
//                                         (server/method/training/optimizer.ts calls it)
//
// Shapes are simplified before the call: axes of size 1 dropped, neighbouring axes of the same
// kind (reduced or kept; present in both operands or broadcast in one) merged. Anything else
// (other dtypes, reductions that do not merge into three runs) goes to the replaced kernel.

import '@tensorflow/tfjs-backend-wasm';
import { backend_util, getKernel, registerKernel, unregisterKernel, util } from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WASM, WasmKernelReplacements, wasmKernelConfig } from '../kernels/registry';
import { poolThreads } from './pool-threads';
import type { WasmKernelArgs } from '../kernels/registry';

/** The functions of gowide_blas.node this file uses (see the C files named above). */
export interface ElementwiseAddon {
  tile(x: Float32Array, out: Float32Array, shape: Int32Array, reps: Int32Array): void;
  // threads: of the addon's pool, for passes large enough to split (GOWIDE_SPLIT_MIN_VALUES, gowide_addon.h; default 1).
  reduceSum(x: Float32Array, out: Float32Array, outer: number, reduce: number, inner: number, scale: number, threads?: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, dims: Int32Array, threads?: number): void;
  unary(op: number, x: Float32Array, out: Float32Array, threads?: number): void;
  transpose(x: Float32Array, out: Float32Array, shape: Int32Array, perm: Int32Array): void;
  softmax(x: Float32Array, out: Float32Array, rows: number, columns: number): void;
  /** dz = dy where x > 0 (else 0) and dbias = dz's sums over its rows of `columns` values. */
  reluGradSum(dy: Float32Array, x: Float32Array, dz: Float32Array, dbias: Float32Array, columns: number, threads?: number): void;
  /** op 0 (default): erf's gradient; 1: GELU's. */
  erfGrad(x: Float32Array, dy: Float32Array, out: Float32Array, op?: number, threads?: number): void;
  /** false (nothing written) when an index is outside [0, rows). */
  gather(x: Float32Array, indices: Int32Array, out: Float32Array, rows: number, rowSize: number): boolean;
  batchNorm(
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    scale: Float32Array | null,
    offset: Float32Array | null,
    out: Float32Array,
    period: number,
    epsilon: number,
  ): void;
  /** Statistics as large as x (doffset is dy itself). */
  batchNormGradFull(...args: [...BatchNormGradArrays, epsilon: number]): void;
  /** Per-channel statistics of `channels` values. */
  batchNormGrad(...args: [...BatchNormGradArrays, doffset: Float32Array, channels: number, epsilon: number]): void;
  batchNormTrain(
    x: Float32Array,
    scale: Float32Array | null,
    offset: Float32Array | null,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    channels: number,
    epsilon: number,
    threads?: number,
  ): void;
  /** batchNormTrain's arguments; y = max(0, the batch norm). */
  batchNormReluTrain(...args: Parameters<ElementwiseAddon['batchNormTrain']>): void;
  /** batchNormTrainGrad's arrays, then y (batchNormReluTrain's output), channels, epsilon and threads. */
  batchNormReluTrainGrad(...args: [...BatchNormTrainGradArrays, y: Float32Array, channels: number, epsilon: number, threads?: number]): void;
  batchNormTrainGrad(...args: [...BatchNormTrainGradArrays, channels: number, epsilon: number, threads?: number]): void;
  layerNorm(x: Float32Array, scale: Float32Array | null, offset: Float32Array | null, y: Float32Array, columns: number, epsilon: number, threads?: number): void;
  layerNormGrad(
    ...args: [x: Float32Array, dy: Float32Array, scale: Float32Array | null, dx: Float32Array, dscale: Float32Array, doffset: Float32Array, columns: number, epsilon: number, threads?: number]
  ): void;
  /** layerNorm of a + b. */
  addLayerNorm(a: Float32Array, b: Float32Array, scale: Float32Array | null, offset: Float32Array | null, y: Float32Array, columns: number, epsilon: number, threads?: number): void;
  /** layerNormGrad of x = a + b (dx: the gradient of both). */
  addLayerNormGrad(
    ...args: [a: Float32Array, b: Float32Array, dy: Float32Array, scale: Float32Array | null, dx: Float32Array, dscale: Float32Array, doffset: Float32Array, columns: number, epsilon: number, threads?: number]
  ): void;
  /** params: [b1, 1 - b1, b2, 1 - b2, c1, c2, epsilon, rate, decay] (see ADAM_STEP). */
  adam(
    x: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    xOut: Float32Array,
    mOut: Float32Array,
    vOut: Float32Array,
    params: Float32Array,
    threads?: number,
  ): void;
}

/** The arrays of batchNormTrainGrad: inputs, then outputs. */
type BatchNormTrainGradArrays = [
  x: Float32Array,
  dy: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  scale: Float32Array | null,
  dmean: Float32Array | null,
  dvariance: Float32Array | null,
  dx: Float32Array,
  dscale: Float32Array,
  doffset: Float32Array,
];

/** The arrays both batch-norm gradients take: inputs, then outputs. */
type BatchNormGradArrays = [
  x: Float32Array,
  dy: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  scale: Float32Array | null,
  dx: Float32Array,
  dmean: Float32Array,
  dvariance: Float32Array,
  dscale: Float32Array,
];

/** Name of our batch-norm gradient kernel (registered on wasm only; ../kernels/gradients.ts uses it). */
export const BATCH_NORM_GRAD = 'GowideBatchNormGrad';
/** Names of our relu and square gradient kernels (inputs dy, x of one shape): dy * step(x), dy * 2x. */
export const RELU_GRAD = 'GowideReluGrad';
export const SQUARE_GRAD = 'GowideSquareGrad';
/** Name of our kernel of the ReLU's gradient and a bias's gradient in one pass: inputs dy, x of one
 *  shape; outputs dz (GowideReluGrad's) and dz summed over every axis but the last. */
export const RELU_GRAD_SUM = 'GowideReluGradSum';
/** Name of our kernel max(0, a + b) (inputs a, b: float32 of one shape; ../kernels/add-relu.ts). */
export const ADD_RELU = 'GowideAddRelu';
/** Name of our erf gradient kernel: dy * 2/sqrt(pi) * exp(-x^2) (../kernels/gradients.ts uses it). */
export const ERF_GRAD = 'GowideErfGrad';
/** Names of our GELU kernels (../kernels/gelu.ts): input x (float32); the gradient's inputs x and dy of one shape. */
export const GELU = 'GowideGelu';
export const GELU_GRAD = 'GowideGeluGrad';

/**
 * Names of our batch-norm training kernels. GowideBatchNormTrain: inputs x [..., C], scale and
 * offset [C] (each optional); attrs.varianceEpsilon; outputs y, the batch's mean and (biased)
 * variance [C]. GowideBatchNormTrainGrad: inputs x, dy, mean, variance [, scale, dmean,
 * dvariance]; outputs dx, dscale, doffset.
 */
export const BATCH_NORM_TRAIN = 'GowideBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'GowideBatchNormTrainGrad';
/**
 * The same followed by a ReLU, in one pass each: GowideBatchNormReluTrain's y is max(0, the batch
 * norm); GowideBatchNormReluTrainGrad takes GowideBatchNormTrainGrad's inputs and y (the forward
 * output), and passes dy back only where y > 0.
 */
export const BATCH_NORM_RELU_TRAIN = 'GowideBatchNormReluTrain';
export const BATCH_NORM_RELU_TRAIN_GRAD = 'GowideBatchNormReluTrainGrad';
/**
 * Name of our moving-averages kernel: inputs movingMean, movingVariance, mean, variance (float32,
 * one size); attrs.momentum; outputs moving - (moving - value) * (1 - momentum) for the two, in
 * float32 step by step as TF.js's Sub, Mul, Sub (BatchNorm's update, in one kernel instead of six).
 */
export const MOVING_AVERAGES = 'GowideMovingAverages';

/**
 * Names of our layer-norm kernels. GowideLayerNorm: inputs x [..., D], scale and offset [D] (each
 * optional); attrs.varianceEpsilon; output y. GowideLayerNormGrad: inputs x, dy [, scale];
 * outputs dx, dscale, doffset.
 */
export const LAYER_NORM = 'GowideLayerNorm';
export const LAYER_NORM_GRAD = 'GowideLayerNormGrad';
/**
 * The same of x = a + b (a residual add and the LayerNorm after it): GowideAddLayerNorm's inputs
 * a, b (float32, one shape) in place of x; GowideAddLayerNormGrad's a, b, dy [, scale], outputs dx
 * (the gradient of both a and b), dscale, doffset.
 */
export const ADD_LAYER_NORM = 'GowideAddLayerNorm';
export const ADD_LAYER_NORM_GRAD = 'GowideAddLayerNormGrad';

/**
 * Name of our Adam kernel: inputs x (the variable), g, m, v (its moments), all float32 of one
 * shape; attrs beta1, beta2, c1 = 1 - beta1^t, c2 = 1 - beta2^t, epsilon, rate, decay; outputs
 * the new x, m and v. The maths and its float32 rounding are GroupOptimizer's (server/method/training/optimizer.ts).
 */
export const ADAM_STEP = 'GowideAdam';

let addon: ElementwiseAddon | null = null;

const view = (backend: BackendWasm, tensor: TensorInfo): Float32Array => backend.typedArrayFromHeap(tensor) as Float32Array;

// ---------------------------------------------------------------------------------------------
// Shape simplification (exported for the tests)

/** A reduction as one [outer, reduce, inner] block, or null when the reduced axes do not merge so. */
export function reductionRuns(shape: readonly number[], axes: readonly number[]): { outer: number; reduce: number; inner: number } | null {
  const runs: Array<{ reduced: boolean; size: number }> = [];
  shape.forEach((size, axis) => {
    if (size === 1) return;
    const reduced = axes.includes(axis);
    const last = runs[runs.length - 1];
    if (last != null && last.reduced === reduced) last.size *= size;
    else runs.push({ reduced, size });
  });
  if (runs.length > 3) return null;
  if (runs.length === 3 && !runs[1].reduced) return null;
  const result = { outer: 1, reduce: 1, inner: 1 };
  let seenReduce = false;
  for (const run of runs) {
    if (run.reduced) {
      result.reduce = run.size;
      seenReduce = true;
    } else if (seenReduce) {
      result.inner = run.size;
    } else {
      result.outer = run.size;
    }
  }
  return result;
}

/**
 * The addon's dims for a broadcasting binary op of shapes a and b: [rank, out sizes, a strides,
 * b strides] over merged axes (size-1 output axes dropped).
 */
export function broadcastDims(aShape: readonly number[], bShape: readonly number[]): Int32Array {
  const outShape = backend_util.assertAndGetBroadcastShape(aShape as number[], bShape as number[]);
  const rank = outShape.length;
  const padded = (shape: readonly number[]) => [...new Array(rank - shape.length).fill(1), ...shape];
  const a = padded(aShape);
  const b = padded(bShape);
  // kind: 3 = both present, 1 = only a (b broadcast), 2 = only b.
  const runs: Array<{ kind: number; size: number }> = [];
  outShape.forEach((size, axis) => {
    if (size === 1) return;
    const kind = (a[axis] === size ? 1 : 0) | (b[axis] === size ? 2 : 0);
    const last = runs[runs.length - 1];
    if (last != null && last.kind === kind) last.size *= size;
    else runs.push({ kind, size });
  });
  if (runs.length === 0) runs.push({ kind: 3, size: 1 });
  const stridesOf = (bit: number): number[] => {
    const strides = new Array<number>(runs.length).fill(0);
    let stride = 1;
    for (let i = runs.length - 1; i >= 0; i--) {
      if ((runs[i].kind & bit) === 0) continue;
      strides[i] = stride;
      stride *= runs[i].size;
    }
    return strides;
  };
  return Int32Array.from([runs.length, ...runs.map((run) => run.size), ...stridesOf(1), ...stridesOf(2)]);
}

// ---------------------------------------------------------------------------------------------
// Kernels

function nativeTile(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const reps = attrs.reps as number[];
  if (addon == null || x.dtype !== 'float32' || reps.length !== x.shape.length || x.shape.length === 0) {
    return replacements.runFallback('Tile', args);
  }
  const outShape = x.shape.map((size, axis) => size * reps[axis]);
  const out = backend.makeOutput(outShape, 'float32');
  if (util.sizeFromShape(outShape) === 0) return out;
  // Axes with size and reps 1 change nothing: left out.
  const kept = x.shape.map((_, axis) => axis).filter((axis) => x.shape[axis] !== 1 || reps[axis] !== 1);
  const axes = kept.length > 0 ? kept : [0];
  addon.tile(
    view(backend, x),
    view(backend, out),
    Int32Array.from(axes.map((axis) => x.shape[axis])),
    Int32Array.from(axes.map((axis) => reps[axis])),
  );
  return out;
}

/** Sum (scaled 1) or Mean (scaled 1/count) over the attrs' axes. */
function nativeReduce(kernelName: 'Sum' | 'Mean', args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape);
  const runs = addon != null && x.dtype === 'float32' ? reductionRuns(x.shape, axes) : null;
  if (addon == null || runs == null) return replacements.runFallback(kernelName, args);
  const outShape = attrs.keepDims
    ? x.shape.map((size, axis) => (axes.includes(axis) ? 1 : size))
    : x.shape.filter((_, axis) => !axes.includes(axis));
  const out = backend.makeOutput(outShape, 'float32');
  const count = axes.reduce((product, axis) => product * x.shape[axis], 1);
  const scale = kernelName === 'Mean' && count > 0 ? 1 / count : 1;
  addon.reduceSum(view(backend, x), view(backend, out), runs.outer, runs.reduce, runs.inner, scale, poolThreads());
  return out;
}

const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, SquaredDifference: 4 } as const;
type BinaryKernel = keyof typeof BINARY_OPS;

/**
 * Below this many values a product without broadcasting (same shapes, or a scalar operand) costs
 * less in the wasm kernel than the call into the addon (Adam's updates of small variables).
 */
const SMALL_ELEMENTWISE = 4096;

function nativeBinary(kernelName: BinaryKernel, args: WasmKernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const a = inputs.a as TensorInfo;
  const b = inputs.b as TensorInfo;
  if (addon == null || a.dtype !== 'float32' || b.dtype !== 'float32') return replacements.runFallback(kernelName, args);
  const aSize = util.sizeFromShape(a.shape);
  const bSize = util.sizeFromShape(b.shape);
  // Same shapes or a scalar: one run over the output, no broadcast analysis.
  const sameShape = util.arraysEqual(a.shape, b.shape);
  const simple = sameShape || (aSize === 1 && a.shape.length <= b.shape.length) || (bSize === 1 && b.shape.length <= a.shape.length);
  if (simple && Math.max(aSize, bSize) < SMALL_ELEMENTWISE) return replacements.runFallback(kernelName, args);
  const outShape = sameShape ? a.shape : backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const out = backend.makeOutput(outShape, 'float32');
  const size = util.sizeFromShape(outShape);
  if (size > 0) {
    const dims = simple ? Int32Array.from([1, size, aSize === size ? 1 : 0, bSize === size ? 1 : 0]) : broadcastDims(a.shape, b.shape);
    addon.binary(BINARY_OPS[kernelName], view(backend, a), view(backend, b), view(backend, out), dims, poolThreads());
  }
  return out;
}

const UNARY_OPS = { Exp: 0, Erf: 1, Rsqrt: 2, Sqrt: 3, Log: 4, Tanh: 5, Sigmoid: 6 } as const;
type UnaryKernel = keyof typeof UNARY_OPS;

function nativeUnary(kernelName: UnaryKernel, args: WasmKernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  if (addon == null || x.dtype !== 'float32') return replacements.runFallback(kernelName, args);
  const out = backend.makeOutput(x.shape, 'float32');
  addon.unary(UNARY_OPS[kernelName], view(backend, x), view(backend, out), poolThreads());
  return out;
}

/** Inputs x, dy (same shape, float32): dx of erf (op 0) or of GELU (op 1). */
function erfOrGeluGrad(op: 0 | 1) {
  return ({ inputs, backend }: WasmKernelArgs): TensorInfo => {
    const x = inputs.x as TensorInfo;
    const dy = inputs.dy as TensorInfo;
    if (addon == null) throw new Error(`${op === 0 ? ERF_GRAD : GELU_GRAD}: native addon not loaded`);
    const out = backend.makeOutput(x.shape, 'float32');
    addon.erfGrad(view(backend, x), view(backend, dy), view(backend, out), op, poolThreads());
    return out;
  };
}

/** Input x (float32): GELU (unary op 7). */
function gelu({ inputs, backend }: WasmKernelArgs): TensorInfo {
  const x = inputs.x as TensorInfo;
  if (addon == null || x.dtype !== 'float32') throw new Error(`${GELU}: needs the native addon and a float32 x`);
  const out = backend.makeOutput(x.shape, 'float32');
  addon.unary(7, view(backend, x), view(backend, out), poolThreads());
  return out;
}

/**
 * Inputs `first`, `second` (same shape, float32): a binary op code of the addon without
 * broadcasting (5 relu's gradient and 6 square's, of dy and x; 7 max(0, a + b)).
 */
function sameShapeBinary(op: number, first: string, second: string) {
  return ({ inputs, backend }: WasmKernelArgs): TensorInfo => {
    const [a, b] = sameShapeFloats(inputs, first, second);
    const out = backend.makeOutput(b.shape, 'float32');
    const size = util.sizeFromShape(b.shape);
    if (size > 0) addon!.binary(op, view(backend, a), view(backend, b), view(backend, out), Int32Array.from([1, size, 1, 1]), poolThreads());
    return out;
  };
}

/** Inputs `first` and `second` of a kernel of the addon: float32 tensors of one shape, or it throws. */
function sameShapeFloats(inputs: WasmKernelArgs['inputs'], first: string, second: string): [TensorInfo, TensorInfo] {
  const a = inputs[first] as TensorInfo;
  const b = inputs[second] as TensorInfo;
  if (addon == null) throw new Error('native addon not loaded');
  if (a == null || b == null || a.dtype !== 'float32' || b.dtype !== 'float32' || !util.arraysEqual(a.shape, b.shape)) {
    throw new Error(`${first} and ${second} must be float32 tensors of one shape`);
  }
  return [a, b];
}

function reluGradSum({ inputs, backend }: WasmKernelArgs): TensorInfo[] {
  const [dy, x] = sameShapeFloats(inputs, 'dy', 'x');
  if (x.shape.length === 0) throw new Error(`${RELU_GRAD_SUM}: dy and x must have rank 1 or more`);
  const columns = x.shape[x.shape.length - 1];
  const dz = backend.makeOutput(x.shape, 'float32');
  const dbias = backend.makeOutput([columns], 'float32');
  if (columns > 0) addon!.reluGradSum(view(backend, dy), view(backend, x), view(backend, dz), view(backend, dbias), columns, poolThreads());
  return [dz, dbias];
}

/**
 * A transpose with neighbouring axes that stay neighbours (and axes of size 1) merged: the
 * smaller shape and permutation that move the same data.
 */
export function simplifyTranspose(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  // Groups of input axes, in output order: a run of out axes whose input axes are consecutive.
  const kept = perm.filter((axis) => shape[axis] !== 1);
  const groups: number[][] = [];
  for (const axis of kept) {
    const last = groups[groups.length - 1];
    if (last != null && last[last.length - 1] + 1 === axis) last.push(axis);
    else groups.push([axis]);
  }
  if (groups.length === 0) return { shape: [1], perm: [0] };
  // Number the groups by their first input axis: that order is the merged input's axis order.
  const inputOrder = [...groups].sort((a, b) => a[0] - b[0]);
  const mergedShape = inputOrder.map((group) => group.reduce((product, axis) => product * shape[axis], 1));
  return { shape: mergedShape, perm: groups.map((group) => inputOrder.indexOf(group)) };
}

function nativeTranspose(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const perm = attrs.perm as number[];
  if (addon == null || x.dtype !== 'float32' || perm.length !== x.shape.length) return replacements.runFallback('Transpose', args);
  const out = backend.makeOutput(perm.map((axis) => x.shape[axis]), 'float32');
  if (util.sizeFromShape(x.shape) === 0) return out;
  const simple = simplifyTranspose(x.shape, perm);
  addon.transpose(view(backend, x), view(backend, out), Int32Array.from(simple.shape), Int32Array.from(simple.perm));
  return out;
}

function nativeSoftmax(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const logits = inputs.logits as TensorInfo;
  const rank = logits.shape.length;
  const dim = Number(attrs.dim ?? -1);
  if (addon == null || logits.dtype !== 'float32' || rank === 0 || (dim !== -1 && dim !== rank - 1)) return replacements.runFallback('Softmax', args);
  const out = backend.makeOutput(logits.shape, 'float32');
  const columns = logits.shape[rank - 1];
  const size = util.sizeFromShape(logits.shape);
  if (size > 0) addon.softmax(view(backend, logits), view(backend, out), size / columns, columns);
  return out;
}

/** GatherV2 of float32 rows along axis 0 without batch dims; other gathers and bad indices fall back. */
function nativeGather(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const indices = inputs.indices as TensorInfo;
  const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0];
  if (addon == null || x.dtype !== 'float32' || indices.dtype !== 'int32' || axis !== 0 || Number(attrs.batchDims ?? 0) !== 0 || x.shape.length === 0) {
    return replacements.runFallback('GatherV2', args);
  }
  const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], 'float32');
  const rowSize = util.sizeFromShape(x.shape.slice(1));
  const ok = addon.gather(view(backend, x), backend.typedArrayFromHeap(indices) as Int32Array, view(backend, out), x.shape[0], rowSize);
  if (ok) return out;
  backend.disposeData(out.dataId);
  return replacements.runFallback('GatherV2', args); // reports the index out of range
}

/** FusedBatchNorm where mean, variance and the scale and offset present all have one length. */
function nativeBatchNorm(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const statistics = [inputs.mean, inputs.variance, inputs.scale, inputs.offset];
  const period = util.sizeFromShape((inputs.mean as TensorInfo).shape);
  const size = util.sizeFromShape(x.shape);
  const fits =
    x.dtype === 'float32' &&
    period > 0 &&
    size % period === 0 &&
    statistics.every((t) => t == null || (t.dtype === 'float32' && util.sizeFromShape(t.shape) === period));
  if (addon == null || !fits) return replacements.runFallback('FusedBatchNorm', args);
  const out = backend.makeOutput(x.shape, 'float32');
  const epsilon = attrs.varianceEpsilon == null ? 0.001 : Number(attrs.varianceEpsilon);
  const optional = (t: TensorInfo | undefined) => (t == null ? null : view(backend, t));
  addon.batchNorm(
    view(backend, x),
    view(backend, inputs.mean as TensorInfo),
    view(backend, inputs.variance as TensorInfo),
    optional(inputs.scale),
    optional(inputs.offset),
    view(backend, out),
    period,
    epsilon,
  );
  return out;
}

/**
 * Inputs x, dy, mean, variance [, scale]: mean, variance, scale either [C] with x and dy [..., C]
 * (per channel), or each as many values as x (LayerNorm); attrs.varianceEpsilon. Outputs dx,
 * dmean, dvariance, dscale, doffset.
 */
function batchNormGrad({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo[] {
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const mean = inputs.mean as TensorInfo;
  const variance = inputs.variance as TensorInfo;
  const scale = inputs.scale ?? null;
  if (addon == null) throw new Error(`${BATCH_NORM_GRAD}: native addon not loaded`);
  const epsilon = attrs.varianceEpsilon == null ? 0.001 : Number(attrs.varianceEpsilon);
  if (util.sizeFromShape(mean.shape) === util.sizeFromShape(x.shape)) {
    // Statistics as large as x (LayerNorm): element-wise; doffset is dy, shared.
    const full = [x.shape, mean.shape, variance.shape, (scale ?? mean).shape].map((shape) => backend.makeOutput(shape, 'float32'));
    const [dx, dmean, dvariance, dscale] = full.map((tensor) => view(backend, tensor));
    addon.batchNormGradFull(view(backend, x), view(backend, dy), view(backend, mean), view(backend, variance), scale ? view(backend, scale) : null, dx, dmean, dvariance, dscale, epsilon);
    backend.incRef(dy.dataId);
    return [...full, { dataId: dy.dataId, shape: mean.shape, dtype: 'float32' }];
  }
  const channels = mean.shape[0];
  const outputs = [
    backend.makeOutput(x.shape, 'float32'),
    ...[0, 1, 2, 3].map(() => backend.makeOutput([channels], 'float32')),
  ];
  const [dx, dmean, dvariance, dscale, doffset] = outputs.map((tensor) => view(backend, tensor));
  addon.batchNormGrad(
    view(backend, x),
    view(backend, dy),
    view(backend, mean),
    view(backend, variance),
    scale ? view(backend, scale) : null,
    dx,
    dmean,
    dvariance,
    dscale,
    doffset,
    channels,
    epsilon,
  );
  return outputs;
}

/** A kernel's optional input as a view of the heap, or null when absent. */
const optionalView = (backend: BackendWasm, t: TensorInfo | undefined) => (t == null ? null : view(backend, t));

const epsilonOf = (attrs: WasmKernelArgs['attrs']) => (attrs.varianceEpsilon == null ? 0.001 : Number(attrs.varianceEpsilon));

/** Checks that x is float32 [..., C] and the named inputs present are float32 [C]; returns C. */
function perChannelInputs(kernelName: string, inputs: WasmKernelArgs['inputs'], names: string[]): number {
  const x = inputs.x as TensorInfo;
  const channels = x.shape[x.shape.length - 1] ?? 0;
  const bad = (t: TensorInfo | undefined) => t != null && (t.dtype !== 'float32' || util.sizeFromShape(t.shape) !== channels);
  if (x.dtype !== 'float32' || x.shape.length === 0 || channels < 1 || util.sizeFromShape(x.shape) === 0 || names.some((name) => bad(inputs[name]))) {
    throw new Error(`${kernelName}: x must be a non-empty float32 [..., C] and ${names.join(', ')} float32 [C]`);
  }
  if (addon == null) throw new Error(`${kernelName}: native addon not loaded`);
  return channels;
}

/**
 * Threads the batch-norm training kernels' passes are split over (from GOWIDE_SPLIT_MIN_VALUES): poolThreads.
 * With the second core idle, 2 gave resnet 6x16 3,081 -> 3,306 samples/s (CPU 55.6 -> 58.9 ms a
 * step); at load 3-4, 2,305 -> 2,253.
 */
const normThreads = poolThreads;

/** GowideBatchNormTrain, or with relu GowideBatchNormReluTrain. */
const batchNormTrain =
  (relu: boolean) =>
  ({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo[] => {
    const channels = perChannelInputs(relu ? BATCH_NORM_RELU_TRAIN : BATCH_NORM_TRAIN, inputs, ['scale', 'offset']);
    const x = inputs.x as TensorInfo;
    const outputs = [backend.makeOutput(x.shape, 'float32'), backend.makeOutput([channels], 'float32'), backend.makeOutput([channels], 'float32')];
    const [y, mean, variance] = outputs.map((t) => view(backend, t));
    const args = [view(backend, x), optionalView(backend, inputs.scale), optionalView(backend, inputs.offset), y, mean, variance, channels, epsilonOf(attrs), normThreads()] as const;
    if (relu) addon!.batchNormReluTrain(...args);
    else addon!.batchNormTrain(...args);
    return outputs;
  };

/** GowideBatchNormTrainGrad, or with relu GowideBatchNormReluTrainGrad (input y as well). */
const batchNormTrainGrad =
  (relu: boolean) =>
  ({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo[] => {
    const name = relu ? BATCH_NORM_RELU_TRAIN_GRAD : BATCH_NORM_TRAIN_GRAD;
    const channels = perChannelInputs(name, inputs, ['mean', 'variance', 'scale', 'dmean', 'dvariance']);
    const x = inputs.x as TensorInfo;
    const full = relu ? [inputs.dy, inputs.y] : [inputs.dy];
    if (full.some((t) => t == null || t.dtype !== 'float32' || !util.arraysEqual(t.shape, x.shape)) || inputs.mean == null || inputs.variance == null) {
      throw new Error(`${name}: needs dy${relu ? ' and y' : ''} (float32, x's shape), mean and variance`);
    }
    const outputs = [backend.makeOutput(x.shape, 'float32'), backend.makeOutput([channels], 'float32'), backend.makeOutput([channels], 'float32')];
    const [dx, dscale, doffset] = outputs.map((t) => view(backend, t));
    const [mean, variance] = [inputs.mean, inputs.variance].map((t) => view(backend, t as TensorInfo));
    const [scale, dmean, dvariance] = [inputs.scale, inputs.dmean, inputs.dvariance].map((t) => optionalView(backend, t));
    const arrays = [view(backend, x), view(backend, inputs.dy as TensorInfo), mean, variance, scale, dmean, dvariance, dx, dscale, doffset] as const;
    if (relu) addon!.batchNormReluTrainGrad(...arrays, view(backend, inputs.y as TensorInfo), channels, epsilonOf(attrs), normThreads());
    else addon!.batchNormTrainGrad(...arrays, channels, epsilonOf(attrs), normThreads());
    return outputs;
  };

function movingAverages({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo[] {
  const pairs = [['movingMean', 'mean'], ['movingVariance', 'variance']].map((names) => names.map((name) => inputs[name]));
  const size = util.sizeFromShape((inputs.movingMean as TensorInfo).shape);
  if (pairs.flat().some((t) => t == null || t.dtype !== 'float32' || util.sizeFromShape(t.shape) !== size)) {
    throw new Error(`${MOVING_AVERAGES}: movingMean, movingVariance, mean and variance must be float32 of one size`);
  }
  const rate = Math.fround(1 - Number(attrs.momentum));
  return pairs.map(([moving, value]) => {
    const out = backend.makeOutput(moving!.shape, 'float32');
    const [m, v, o] = [moving!, value!, out].map((t) => view(backend, t));
    for (let i = 0; i < size; i++) o[i] = m[i] - Math.fround(Math.fround(m[i] - v[i]) * rate);
    return out;
  });
}

/**
 * The layer norm kernels' x: inputs.x, or with `add` inputs.a (x = a + b: GowideAddLayerNorm and
 * its gradient) after checking b; the named full-size inputs must have its shape too.
 */
function layerNormInputs(kernelName: string, inputs: WasmKernelArgs['inputs'], add: boolean, full: string[]): WasmKernelArgs['inputs'] {
  const x = (add ? inputs.a : inputs.x) as TensorInfo;
  const named: WasmKernelArgs['inputs'] = { ...inputs, x };
  const bad = (name: string) => named[name] == null || named[name]!.dtype !== 'float32' || !util.arraysEqual(named[name]!.shape, x?.shape ?? []);
  if (x == null || [...(add ? ['b'] : []), ...full].some(bad)) throw new Error(`${kernelName}: needs ${[...(add ? ['a', 'b'] : []), ...full].join(', ')} (float32, one shape)`);
  return named;
}

/** GowideLayerNorm, or with add GowideAddLayerNorm (the norm of a + b). */
const layerNorm =
  (add: boolean) =>
  ({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo => {
    const name = add ? ADD_LAYER_NORM : LAYER_NORM;
    const named = layerNormInputs(name, inputs, add, []);
    const columns = perChannelInputs(name, named, ['scale', 'offset']);
    const x = named.x as TensorInfo;
    const y = backend.makeOutput(x.shape, 'float32');
    const [scale, offset] = [optionalView(backend, inputs.scale), optionalView(backend, inputs.offset)];
    if (add) addon!.addLayerNorm(view(backend, x), view(backend, inputs.b as TensorInfo), scale, offset, view(backend, y), columns, epsilonOf(attrs), poolThreads());
    else addon!.layerNorm(view(backend, x), scale, offset, view(backend, y), columns, epsilonOf(attrs), poolThreads());
    return y;
  };

/** GowideLayerNormGrad, or with add GowideAddLayerNormGrad (dx: the gradient of both a and b). */
const layerNormGrad =
  (add: boolean) =>
  ({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo[] => {
    const name = add ? ADD_LAYER_NORM_GRAD : LAYER_NORM_GRAD;
    const named = layerNormInputs(name, inputs, add, ['dy']);
    const columns = perChannelInputs(name, named, ['scale']);
    const x = named.x as TensorInfo;
    const outputs = [backend.makeOutput(x.shape, 'float32'), backend.makeOutput([columns], 'float32'), backend.makeOutput([columns], 'float32')];
    const [dx, dscale, doffset] = outputs.map((t) => view(backend, t));
    const [dy, scale] = [view(backend, inputs.dy as TensorInfo), optionalView(backend, inputs.scale)];
    if (add) addon!.addLayerNormGrad(view(backend, x), view(backend, inputs.b as TensorInfo), dy, scale, dx, dscale, doffset, columns, epsilonOf(attrs), poolThreads());
    else addon!.layerNormGrad(view(backend, x), dy, scale, dx, dscale, doffset, columns, epsilonOf(attrs), poolThreads());
    return outputs;
  };

function adamStep({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo[] {
  const x = inputs.x as TensorInfo;
  if (addon == null) throw new Error(`${ADAM_STEP}: native addon not loaded`);
  const tensors = [x, inputs.g, inputs.m, inputs.v] as TensorInfo[];
  if (tensors.some((t) => t == null || t.dtype !== 'float32' || !util.arraysEqual(t.shape, x.shape))) {
    throw new Error(`${ADAM_STEP}: x, g, m and v must be float32 tensors of one shape`);
  }
  const outputs = [0, 1, 2].map(() => backend.makeOutput(x.shape, 'float32'));
  if (util.sizeFromShape(x.shape) === 0) return outputs;
  const a = attrs as Record<string, number>;
  const params = Float32Array.from([a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.c1, a.c2, a.epsilon, a.rate, a.decay ?? 0]);
  const [xView, g, m, v] = tensors.map((t) => view(backend, t));
  const [xOut, mOut, vOut] = outputs.map((t) => view(backend, t));
  addon.adam(xView, g, m, v, xOut, mOut, vOut, params, poolThreads());
  return outputs;
}

/** Ours, each falling back on the kernel registered before it. */
const replacements = new WasmKernelReplacements<WasmKernelArgs>([
  { kernelName: 'Tile', kernelFunc: nativeTile },
  { kernelName: 'Sum', kernelFunc: (args) => nativeReduce('Sum', args) },
  { kernelName: 'Mean', kernelFunc: (args) => nativeReduce('Mean', args) },
  { kernelName: 'FusedBatchNorm', kernelFunc: nativeBatchNorm },
  { kernelName: 'GatherV2', kernelFunc: nativeGather },
  { kernelName: 'Transpose', kernelFunc: nativeTranspose },
  { kernelName: 'Softmax', kernelFunc: nativeSoftmax },
  ...(Object.keys(UNARY_OPS) as UnaryKernel[]).map((kernelName) => ({
    kernelName,
    kernelFunc: (args: WasmKernelArgs) => nativeUnary(kernelName, args),
  })),
  ...(Object.keys(BINARY_OPS) as BinaryKernel[]).map((kernelName) => ({
    kernelName,
    kernelFunc: (args: WasmKernelArgs) => nativeBinary(kernelName, args),
  })),
]);

/** True while the native Tile (and the other kernels here) are registered in place of the wasm backend's. */
export function nativeTileRegistered(): boolean {
  return addon != null && replacements.fallback('Tile') != null;
}

/** Kernels of our own (no TF.js kernel of that name): the gradients' fused passes. */
const ourKernels: Array<[string, (args: WasmKernelArgs) => TensorInfo | TensorInfo[]]> = [
  [BATCH_NORM_GRAD, batchNormGrad],
  [ERF_GRAD, erfOrGeluGrad(0)],
  [GELU, gelu],
  [GELU_GRAD, erfOrGeluGrad(1)],
  [RELU_GRAD, sameShapeBinary(5, 'dy', 'x')],
  [RELU_GRAD_SUM, reluGradSum],
  [SQUARE_GRAD, sameShapeBinary(6, 'dy', 'x')],
  [ADD_RELU, sameShapeBinary(7, 'a', 'b')],
  [BATCH_NORM_TRAIN, batchNormTrain(false)],
  [BATCH_NORM_TRAIN_GRAD, batchNormTrainGrad(false)],
  [BATCH_NORM_RELU_TRAIN, batchNormTrain(true)],
  [BATCH_NORM_RELU_TRAIN_GRAD, batchNormTrainGrad(true)],
  [MOVING_AVERAGES, movingAverages],
  [LAYER_NORM, layerNorm(false)],
  [LAYER_NORM_GRAD, layerNormGrad(false)],
  [ADD_LAYER_NORM, layerNorm(true)],
  [ADD_LAYER_NORM_GRAD, layerNormGrad(true)],
  [ADAM_STEP, adamStep],
];

/**
 * Registers the kernels above on the 'wasm' backend, computed by `addonExports` (the loaded
 * gowide_blas.node at `addonPath`), keeping the replaced kernels as fallbacks. Idempotent.
 */
export function registerElementwiseKernels(
  addonExports: object,
  addonPath: string,
): { ok: true; kernels: string[] } | { ok: false; reason: string } {
  const candidate = addonExports as Partial<ElementwiseAddon>;
  if (typeof candidate.tile !== 'function' || typeof candidate.batchNormGrad !== 'function' || typeof candidate.adam !== 'function' || typeof candidate.layerNorm !== 'function' || typeof candidate.batchNormReluTrain !== 'function' || typeof candidate.addLayerNorm !== 'function') {
    return { ok: false, reason: `native addon ${addonPath} has no element-wise kernels (stale build): run \`node scripts/build-native.mjs\`` };
  }
  addon = candidate as ElementwiseAddon;
  const kernels = replacements.installAll();
  for (const [name, kernelFunc] of ourKernels) {
    if (getKernel(name, WASM) == null) registerKernel(wasmKernelConfig(name, kernelFunc as unknown as (args: never) => TensorInfo));
    kernels.push(name);
  }
  return { ok: true, kernels };
}

/** Puts back the kernels registerElementwiseKernels replaced and removes ours; returns their names. */
export function unregisterElementwiseKernels(): string[] {
  const restored = replacements.restoreAll();
  for (const [name] of ourKernels) {
    if (getKernel(name, WASM) == null) continue;
    unregisterKernel(name, WASM);
    restored.push(name);
  }
  return restored;
}
