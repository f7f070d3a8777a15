// The ReLU's gradient taken from its output, for the fused ops that end in a ReLU (add + ReLU, dense,
// conv): y > 0 exactly where the ReLU's input is, so dy passes there (GowideReluGrad, one native pass;
// GowideReluGradSum adds the bias's gradient, the sums of that over every axis but the channels').
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs-core';
import { RELU_GRAD, RELU_GRAD_SUM } from '../native/elementwise-kernels';
import { wasmKernelActive } from './registry';

/** The activations the fused dense and conv ops apply, named as tf.layers names them. */
const FUSED_ACTIVATIONS: readonly string[] = ['linear', 'relu'];

/** Whether fused op `kernel` can apply `activation`: one it applies, the kernel registered on the
 *  active (wasm) backend, and, for the ReLU, its gradient kernel too. */
export function fusedActivationRuns(kernel: string, activation: string): boolean {
  return FUSED_ACTIVATIONS.includes(activation) && wasmKernelActive(kernel) && (activation !== 'relu' || wasmKernelActive(RELU_GRAD));
}

/** dy where y > 0, else 0. */
export function reluGradFromOutput(dy: Tensor, y: Tensor): Tensor {
  return tf.engine().runKernel(RELU_GRAD, { dy, x: y }) as Tensor;
}

/** The gradient before an activation (linear or ReLU) from the gradient after it and its output. */
function gradientBeforeActivation(dy: Tensor, y: Tensor, activation: unknown): Tensor {
  return activation === 'relu' ? reluGradFromOutput(dy, y) : dy;
}

/**
 * The gradient before an activation (linear or ReLU) and, when asked, its sums over every axis but
 * the last: a bias's gradient. For the ReLU one native pass computes both where it is registered.
 */
export function gradientAndBiasSum(dy: Tensor, y: Tensor, activation: unknown): { dz: Tensor; dbias: () => Tensor } {
  if (activation === 'relu' && y.rank > 0 && wasmKernelActive(RELU_GRAD_SUM)) {
    const [dz, dbias] = tf.engine().runKernel(RELU_GRAD_SUM, { dy, x: y }) as Tensor[];
    return { dz, dbias: () => dbias };
  }
  const dz = gradientBeforeActivation(dy, y, activation);
  return { dz, dbias: () => tf.sum(dz, Array.from({ length: dz.rank - 1 }, (_, axis) => axis)) };
}
