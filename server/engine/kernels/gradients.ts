// Gradient functions that replace TF.js 4.22's own for kernels whose gradients dominate the
// training steps of normalized models. TF.js keeps one gradient registry for every backend, so
// these apply everywhere; all give the same values as the originals.
//
//   Tile            TF.js adds one slice of dy per repetition: tf.layers.layerNormalization tiles
//                   its scale and offset over [batch, sequence], so each LayerNorm gradient ran
//                   4,096 Slice + Add kernels (a batch of 128 sequences of 32; 2/3 of a
//                   transformer's step). Here: dy reshaped to [reps0, size0, reps1, size1, ...]
//                   and summed over the repetition axes, one Sum.
//   FusedBatchNorm  on the wasm backend with the native addon, per-channel statistics (mean of
//                   rank 1, tf.layers.batchNormalization) or statistics as large as x
//                   (tf.layers.layerNormalization tiles them): the five gradients in one native
//                   pass (GowideBatchNormGrad, ../native/elementwise-kernels.ts) instead of a dozen
//                   full-size element-wise kernels and a Tile. Without it, per-channel statistics
//                   get the same formulas as TF.js ops without the Tile; the rest keeps TF.js's.
//   Erf             (GELU) on wasm with the addon: dy * 2/sqrt(pi) * exp(-x^2) in one native pass
//                   (GowideErfGrad) instead of Square, Neg, Exp and two Multiply kernels.
//   Relu, Square    on wasm with the addon: dy * step(x) and dy * 2x in one native pass
//                   (GowideReluGrad, GowideSquareGrad) instead of 3 and 2 kernels.
//   Sum, Mean       TF.js multiplies dy by ones(x.shape), a full-size array filled and uploaded
//                   from JavaScript (twice per BatchNorm: moments are two Means), then divides by
//                   the count: here dy (divided first, on the small tensor) is tiled, one kernel.
//                   Only on wasm with the native Tile: the wasm backend's own Tile is slower than
//                   TF.js's way there, and so is the cpu backend's.
import * as tf from '@tensorflow/tfjs';
import { getGradient, registerGradient, unregisterGradient, util } from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { BATCH_NORM_GRAD, ERF_GRAD, RELU_GRAD, SQUARE_GRAD, nativeTileRegistered } from '../native/elementwise-kernels';
import { WASM, wasmKernelActive } from './registry';

/** The gradient of tile(x, reps) for dy: the sum of dy's blocks, as one reshape + Sum. */
export function tileGradient(dy: Tensor, xShape: readonly number[], reps: readonly number[]): Tensor {
  const shape: number[] = [];
  const axes: number[] = [];
  xShape.forEach((size, axis) => {
    if (reps[axis] > 1) {
      axes.push(shape.length);
      shape.push(reps[axis]);
    }
    if (size !== 1) shape.push(size);
  });
  if (axes.length === 0) return tf.reshape(dy, xShape as number[]);
  return tf.reshape(tf.sum(tf.reshape(dy, shape), axes), xShape as number[]);
}

/** TF.js's own gradients of the kernels whose gradient ours replaces only on wasm with the addon. */
const originals = new Map<string, GradConfig>();

function runOriginal(kernelName: string, dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) {
  const original = originals.get(kernelName);
  if (original == null) throw new Error(`${kernelName}: no original gradient`);
  return original.gradFunc(dy, saved, attrs);
}

/** The gradient of a Sum (scale 1) or Mean (scale 1/count) of x over axis: dy * scale tiled to x's shape. */
function reductionGradConfig(kernelName: 'Sum' | 'Mean'): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs: NamedAttrMap) => {
      const [x] = saved;
      if (!(tf.getBackend() === WASM && nativeTileRegistered())) return runOriginal(kernelName, dy, saved, attrs);
      const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape);
      const keptShape = x.shape.map((size, axis) => (axes.includes(axis) ? 1 : size));
      const reps = x.shape.map((size, axis) => (axes.includes(axis) ? size : 1));
      const count = axes.reduce((product, axis) => product * x.shape[axis], 1);
      return {
        x: () => {
          let kept = tf.reshape(dy as Tensor, keptShape);
          if (kept.dtype !== 'float32') kept = tf.cast(kept, 'float32');
          if (kernelName === 'Mean') kept = tf.div(kept, count);
          return reps.every((rep) => rep === 1) ? kept : tf.tile(kept, reps);
        },
      };
    },
  };
}

/** The gradient of the unary kernel `kernelName` as our one-pass kernel `ours` (inputs x, dy) where it runs. */
function unaryGradConfig(kernelName: string, ours: string): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs: NamedAttrMap) => {
      const [x] = saved;
      const gradient = dy as Tensor;
      if (!wasmKernelActive(ours) || x.dtype !== 'float32' || gradient.dtype !== 'float32' || !util.arraysEqual(x.shape, gradient.shape)) {
        return runOriginal(kernelName, dy, saved, attrs);
      }
      return { x: () => tf.engine().runKernel(ours, { x, dy: gradient }, {}) as Tensor };
    },
  };
}

const tileGrad: GradConfig = {
  kernelName: 'Tile',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs: NamedAttrMap) => {
    const [x] = saved;
    const reps = attrs.reps as number[];
    return { x: () => tileGradient(dy as Tensor, x.shape, reps) };
  },
};

/**
 * The five per-channel batch-norm gradients from TF.js ops, without TF.js's Tile: with
 * inv = 1/sqrt(variance + epsilon), S1 = sum(dy) and S2 = sum(dy * (x - mean)) over all but the
 * channel axis: dx = dy * scale * inv, dmean = -scale * inv * S1, dvariance = -0.5 * scale * inv^3 * S2,
 * dscale = inv * S2, doffset = S1. For backends without our native kernel (plain wasm: its Tile
 * made TF.js's gradient ~40% of a resnet step).
 */
function composedBatchNormGrad(dy: Tensor, x: Tensor, mean: Tensor, variance: Tensor, scale: Tensor | undefined, epsilon: number) {
  const axes = x.shape.slice(0, -1).map((_, axis) => axis);
  const inv = tf.rsqrt(tf.add(variance, epsilon));
  const factor = scale == null ? inv : tf.mul(scale, inv);
  const s1 = tf.sum(dy, axes);
  const s2 = tf.sum(tf.mul(dy, tf.sub(x, mean)), axes);
  return {
    x: () => tf.mul(dy, factor),
    mean: () => tf.neg(tf.mul(factor, s1)),
    variance: () => tf.mul(tf.mul(factor, tf.square(inv)), tf.mul(s2, -0.5)),
    scale: () => tf.mul(inv, s2),
    offset: () => s1,
  };
}

const batchNormGrad: GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs: NamedAttrMap) => {
    const [x, mean, variance, scale] = saved;
    const channels = mean.shape[0];
    const perChannel = (t: Tensor | undefined) => t == null || (t.rank === 1 && t.shape[0] === channels && t.dtype === 'float32');
    const fullSize = (t: Tensor | undefined) => t == null || (t.size === x.size && t.dtype === 'float32');
    const byChannel = mean.rank === 1 && x.shape[x.rank - 1] === channels && [mean, variance, scale].every(perChannel);
    const epsilon = attrs.varianceEpsilon == null ? 0.001 : Number(attrs.varianceEpsilon);
    if (x.dtype !== 'float32' || (dy as Tensor).dtype !== 'float32') return runOriginal('FusedBatchNorm', dy, saved, attrs);
    if (!wasmKernelActive(BATCH_NORM_GRAD) || !(byChannel || (x.size > 1 && [mean, variance, scale].every(fullSize)))) {
      return byChannel ? composedBatchNormGrad(dy as Tensor, x, mean, variance, scale, epsilon) : runOriginal('FusedBatchNorm', dy, saved, attrs);
    }
    const inputs: Record<string, Tensor> = { x, dy: dy as Tensor, mean, variance };
    if (scale != null) inputs.scale = scale;
    const [dx, dmean, dvariance, dscale, doffset] = tf.engine().runKernel(BATCH_NORM_GRAD, inputs, { varianceEpsilon: epsilon }) as Tensor[];
    return { x: () => dx, mean: () => dmean, variance: () => dvariance, scale: () => dscale, offset: () => doffset };
  },
};

/** The gradients ours replaced, by kernel name (while ours are registered). */
const replaced = new Map<string, GradConfig | undefined>();

/** Registers our gradients (idempotent); returns the kernel names whose gradients are ours. */
export function registerFastGradients(): string[] {
  const unary = [unaryGradConfig('Erf', ERF_GRAD), unaryGradConfig('Relu', RELU_GRAD), unaryGradConfig('Square', SQUARE_GRAD)];
  for (const config of [tileGrad, batchNormGrad, ...unary, reductionGradConfig('Sum'), reductionGradConfig('Mean')]) {
    if (replaced.has(config.kernelName)) continue;
    const original = getGradient(config.kernelName) ?? undefined;
    replaced.set(config.kernelName, original);
    if (original != null) originals.set(config.kernelName, original);
    registerGradient(config);
  }
  return [...replaced.keys()];
}

/** The kernel names whose gradients are ours now. */
export function fastGradientsRegistered(): string[] {
  return [...replaced.keys()];
}

/** Puts TF.js's own gradients back (side-by-side benchmarks and tests); returns the kernel names. */
export function unregisterFastGradients(): string[] {
  const restored = [...replaced.keys()];
  for (const [kernelName, original] of replaced) {
    unregisterGradient(kernelName);
    if (original != null) registerGradient(original);
  }
  replaced.clear();
  return restored;
}
