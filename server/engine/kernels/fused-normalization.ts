// Normalization layers' maths as single ops with their own gradients, for the wasm backend with the
// native addon.
//
// batchNormTraining: BatchNorm in training. tf.layers' BatchNormalization computes the batch's
// moments as Mean, Sub, Square and Mean, then the batch-norm kernel, and its gradient goes back
// through each of them (~12 passes over the activation, plus the engine's adds of the three
// gradients of x). Here: GowideBatchNormTrain (the
// statistics and y in two passes over x) and GowideBatchNormTrainGrad (the gradients through the
// statistics in two passes; ../native/elementwise-kernels.ts). The values are the same as the
// layer's: y = (x - mean) / sqrt(variance + epsilon) * scale + offset with the batch's mean and
// biased variance of each channel (the last axis).
//
// batchNormReluTraining: the same followed by a ReLU (GowideBatchNormReluTrain and its gradient,
// which takes the output y and passes dy back where y > 0): one pass less forward and back, and
// two kernels less, than batchNormTraining then relu.
//
// layerNorm: tf.layers' LayerNormalization (over the last axis) takes moments, tiles them and the
// scale and offset over the whole activation, then runs the batch-norm kernel, and differentiates
// through all of it. Here GowideLayerNorm and GowideLayerNormGrad, one pass each; the same values.
// addLayerNorm: the same of a + b (GowideAddLayerNorm and its gradient), a post-LN transformer's
// residual add and LayerNorm in one pass each way instead of an Add kernel more and its gradient.
import * as tf from '@tensorflow/tfjs';
import { getGradient, registerGradient } from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import {
  ADD_LAYER_NORM,
  ADD_LAYER_NORM_GRAD,
  BATCH_NORM_RELU_TRAIN,
  BATCH_NORM_RELU_TRAIN_GRAD,
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  LAYER_NORM,
  LAYER_NORM_GRAD,
  MOVING_AVERAGES,
} from '../native/elementwise-kernels';
import { wasmKernelActive } from './registry';

/** The gradient of GowideBatchNormTrain, or with relu of GowideBatchNormReluTrain (which saves y too). */
const batchNormTrainGrad = (relu: boolean): GradConfig => ({
  kernelName: relu ? BATCH_NORM_RELU_TRAIN : BATCH_NORM_TRAIN,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [relu, true, true],
  gradFunc: (dys, saved, attrs: NamedAttrMap) => {
    // dmean and dvariance are zeros unless something differentiable used the statistics.
    const [dy, dmean, dvariance] = dys as Tensor[];
    const [x, scale, ...outputs] = saved;
    const [mean, variance] = relu ? outputs.slice(1) : outputs;
    const inputs = { x, dy, mean, variance, scale, dmean, dvariance, ...(relu ? { y: outputs[0] } : {}) };
    // All three at once, here: a closure runs inside its own tidy, which would dispose the others.
    const kernel = relu ? BATCH_NORM_RELU_TRAIN_GRAD : BATCH_NORM_TRAIN_GRAD;
    const [dx, dscale, doffset] = tf.engine().runKernel(kernel, inputs, attrs) as Tensor[];
    return { x: () => dx, scale: () => dscale, offset: () => doffset };
  },
});

const layerNormGrad: GradConfig = {
  kernelName: LAYER_NORM,
  inputsToSave: ['x', 'scale'],
  gradFunc: (dy, saved, attrs: NamedAttrMap) => {
    const [x, scale] = saved;
    const [dx, dscale, doffset] = tf.engine().runKernel(LAYER_NORM_GRAD, { x, dy: dy as Tensor, scale }, attrs) as Tensor[];
    return { x: () => dx, scale: () => dscale, offset: () => doffset };
  },
};

const addLayerNormGrad: GradConfig = {
  kernelName: ADD_LAYER_NORM,
  inputsToSave: ['a', 'b', 'scale'],
  gradFunc: (dy, saved, attrs: NamedAttrMap) => {
    const [a, b, scale] = saved;
    const [dx, dscale, doffset] = tf.engine().runKernel(ADD_LAYER_NORM_GRAD, { a, b, dy: dy as Tensor, scale }, attrs) as Tensor[];
    // Each input its own tensor (the engine disposes gradients it has summed); the reshape shares the data.
    return { a: () => dx, b: () => tf.reshape(dx, dx.shape), scale: () => dscale, offset: () => doffset };
  },
};

/** Whether scale and offset are float32 [C] for x [..., C] of float32 (not empty, rank >= 2). */
function fitsLastAxis(x: Tensor, scale: Tensor, offset: Tensor): boolean {
  const channels = x.shape[x.rank - 1];
  const perChannel = (t: Tensor) => t.dtype === 'float32' && t.rank === 1 && t.shape[0] === channels;
  return x.dtype === 'float32' && x.rank >= 2 && x.size > 0 && perChannel(scale) && perChannel(offset);
}

/**
 * Layer normalization of x over its last axis, (x - mean) / sqrt(variance + epsilon) * scale +
 * offset with each row's mean and biased variance; differentiable in x, scale and offset. Null
 * where the fused op cannot run (as batchNormTraining).
 */
export function layerNorm(x: Tensor, scale: Tensor, offset: Tensor, epsilon: number): Tensor | null {
  if (!wasmKernelActive(LAYER_NORM) || !wasmKernelActive(LAYER_NORM_GRAD) || !fitsLastAxis(x, scale, offset)) return null;
  if (getGradient(LAYER_NORM) == null) registerGradient(layerNormGrad);
  return tf.engine().runKernel(LAYER_NORM, { x, scale, offset }, { varianceEpsilon: epsilon }) as Tensor;
}

/**
 * layerNorm of a + b (a residual add and the LayerNorm after it) in one op, for a and b of one
 * shape; differentiable in a, b, scale and offset. Null where the fused op cannot run.
 */
export function addLayerNorm(a: Tensor, b: Tensor, scale: Tensor, offset: Tensor, epsilon: number): Tensor | null {
  if (!wasmKernelActive(ADD_LAYER_NORM) || !wasmKernelActive(ADD_LAYER_NORM_GRAD) || !fitsLastAxis(a, scale, offset)) return null;
  if (b.dtype !== 'float32' || !tf.util.arraysEqual(a.shape, b.shape)) return null;
  if (getGradient(ADD_LAYER_NORM) == null) registerGradient(addLayerNormGrad);
  return tf.engine().runKernel(ADD_LAYER_NORM, { a, b, scale, offset }, { varianceEpsilon: epsilon }) as Tensor;
}

/** True when the fused op can run here: the wasm backend with our kernels (the addon loaded). */
export function batchNormTrainingAvailable(): boolean {
  return wasmKernelActive(BATCH_NORM_TRAIN) && wasmKernelActive(BATCH_NORM_TRAIN_GRAD);
}

/**
 * y, and the batch's mean and biased variance over every axis but the last, of per-channel batch
 * normalization in training; differentiable in x, scale and offset. Null where the fused op cannot
 * run (another backend, no addon, not float32, an empty x, scale or offset not [C]): then use TF.js ops.
 */
export function batchNormTraining(x: Tensor, scale: Tensor, offset: Tensor, epsilon: number): { y: Tensor; mean: Tensor; variance: Tensor } | null {
  if (!batchNormTrainingAvailable() || !fitsLastAxis(x, scale, offset)) return null;
  if (getGradient(BATCH_NORM_TRAIN) == null) registerGradient(batchNormTrainGrad(false));
  const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, scale, offset }, { varianceEpsilon: epsilon }) as Tensor[];
  return { y, mean, variance };
}

/**
 * BatchNorm's moving averages after a batch: moving - (moving - value) * (1 - momentum) for the
 * mean and the variance, in one kernel where ours runs (else TF.js's Sub, Mul, Sub; same values).
 */
export function movingAverages(movingMean: Tensor, movingVariance: Tensor, mean: Tensor, variance: Tensor, momentum: number): [Tensor, Tensor] {
  if (wasmKernelActive(MOVING_AVERAGES)) {
    return tf.engine().runKernel(MOVING_AVERAGES, { movingMean, movingVariance, mean, variance }, { momentum }) as [Tensor, Tensor];
  }
  return tf.tidy(() => [tf.sub(movingMean, tf.mul(tf.sub(movingMean, mean), 1 - momentum)), tf.sub(movingVariance, tf.mul(tf.sub(movingVariance, variance), 1 - momentum))]);
}

/**
 * batchNormTraining followed by a ReLU: y = max(0, the batch norm), with the batch's mean and
 * variance (before the ReLU); differentiable in x, scale and offset. Null where it cannot run.
 */
export function batchNormReluTraining(x: Tensor, scale: Tensor, offset: Tensor, epsilon: number): { y: Tensor; mean: Tensor; variance: Tensor } | null {
  if (!wasmKernelActive(BATCH_NORM_RELU_TRAIN) || !wasmKernelActive(BATCH_NORM_RELU_TRAIN_GRAD) || !fitsLastAxis(x, scale, offset)) return null;
  if (getGradient(BATCH_NORM_RELU_TRAIN) == null) registerGradient(batchNormTrainGrad(true));
  const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_RELU_TRAIN, { x, scale, offset }, { varianceEpsilon: epsilon }) as Tensor[];
  return { y, mean, variance };
}
