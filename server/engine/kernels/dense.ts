// A dense layer's product, bias and ReLU as one op with its own gradient, for the wasm backend with the
// native addon. In training TF.js splits a fused matMul with an activation into MatMul, Add and Relu
// (tfjs-core fuses only outside gradient recording, or for a linear activation), three kernels and
// three tape entries per layer; GowideDense is one sgemm with the bias and ReLU applied in place, and
// its gradient is the ReLU's gradient from the output (GowideReluGrad), two products and the bias's
// column sums.
import * as tf from '@tensorflow/tfjs';
import { getGradient, registerGradient } from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { DENSE } from '../native/blas-kernels';
import { fusedActivationRuns, gradientAndBiasSum } from './relu-grad';

const denseGrad: GradConfig = {
  kernelName: DENSE,
  inputsToSave: ['x', 'kernel'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs: NamedAttrMap) => {
    const [x, kernel, y] = saved;
    const { dz, dbias } = gradientAndBiasSum(dy as Tensor, y, attrs.activation);
    return {
      x: () => tf.matMul(dz, kernel, false, true),
      kernel: () => tf.matMul(x, dz, true, false),
      bias: dbias,
    };
  },
};

/** activation(x W + b) for x [batch, in] and W [in, out] float32 (bias [out] or null); differentiable
 *  in all three. Null where it cannot run (another backend, another activation or shape). */
export function dense(x: Tensor, kernel: Tensor, bias: Tensor | null, activation: string): Tensor | null {
  if (!fusedActivationRuns(DENSE, activation)) return null;
  if (x.rank !== 2 || kernel.rank !== 2 || x.shape[1] !== kernel.shape[0] || [x, kernel, bias].some((t) => t != null && t.dtype !== 'float32')) return null;
  if (bias != null && (bias.rank !== 1 || bias.shape[0] !== kernel.shape[1])) return null;
  if (getGradient(DENSE) == null) registerGradient(denseGrad);
  return tf.engine().runKernel(DENSE, bias == null ? { x, kernel } : { x, kernel, bias }, { activation }) as Tensor;
}
