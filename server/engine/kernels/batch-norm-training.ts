// BatchNorm in training as one op with its own gradient, for the wasm backend with the native
// addon. tf.layers' BatchNormalization computes the batch's moments as Mean, Sub, Square and Mean,
// then the batch-norm kernel, and its gradient goes back through each of them (~12 passes over the
// activation, plus the engine's adds of the three gradients of x). Here: GowideBatchNormTrain (the
// statistics and y in two passes over x) and GowideBatchNormTrainGrad (the gradients through the
// statistics in two passes; ../native/elementwise-kernels.ts). The values are the same as the
// layer's: y = (x - mean) / sqrt(variance + epsilon) * scale + offset with the batch's mean and
// biased variance of each channel (the last axis).
import * as tf from '@tensorflow/tfjs';
import { getGradient, registerGradient } from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from '../native/elementwise-kernels';
import { wasmKernelActive } from './registry';

const batchNormTrainGrad: GradConfig = {
  kernelName: BATCH_NORM_TRAIN,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs: NamedAttrMap) => {
    // dmean and dvariance are zeros unless something differentiable used the statistics.
    const [dy, dmean, dvariance] = dys as Tensor[];
    const [x, scale, mean, variance] = saved;
    const inputs = { x, dy, mean, variance, scale, dmean, dvariance };
    // All three at once, here: a closure runs inside its own tidy, which would dispose the others.
    const [dx, dscale, doffset] = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, inputs, attrs) as Tensor[];
    return { x: () => dx, scale: () => dscale, offset: () => doffset };
  },
};

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
  const channels = x.shape[x.rank - 1];
  const perChannel = (t: Tensor) => t.dtype === 'float32' && t.rank === 1 && t.shape[0] === channels;
  if (!batchNormTrainingAvailable() || x.dtype !== 'float32' || x.rank < 2 || x.size === 0 || !perChannel(scale) || !perChannel(offset)) {
    return null;
  }
  if (getGradient(BATCH_NORM_TRAIN) == null) registerGradient(batchNormTrainGrad);
  const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, scale, offset }, { varianceEpsilon: epsilon }) as Tensor[];
  return { y, mean, variance };
}
