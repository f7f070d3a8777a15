// A residual add followed by a ReLU as one op with its own gradient, for the wasm backend with the
// native addon: GowideAddRelu (max(0, a + b) in one pass instead of Add then Relu) and, backwards,
// GowideReluGrad of the output (dy where it is positive: the ReLU's gradient, which the add passes
// to both inputs unchanged).
import * as tf from '@tensorflow/tfjs';
import { getGradient, registerGradient } from '@tensorflow/tfjs-core';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { ADD_RELU, RELU_GRAD } from '../native/elementwise-kernels';
import { wasmKernelActive } from './registry';
import { reluGradFromOutput } from './relu-grad';

const addReluGrad: GradConfig = {
  kernelName: ADD_RELU,
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [y] = saved;
    const dx = reluGradFromOutput(dy as Tensor, y);
    // Each input its own tensor (the engine disposes gradients it has summed); the reshape shares the data.
    return { a: () => dx, b: () => tf.reshape(dx, dx.shape) };
  },
};

/** max(0, a + b) for a and b float32 of one shape; differentiable in both. Null where it cannot run. */
export function addRelu(a: Tensor, b: Tensor): Tensor | null {
  if (!wasmKernelActive(ADD_RELU) || !wasmKernelActive(RELU_GRAD)) return null;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || !tf.util.arraysEqual(a.shape, b.shape)) return null;
  if (getGradient(ADD_RELU) == null) registerGradient(addReluGrad);
  return tf.engine().runKernel(ADD_RELU, { a, b }) as Tensor;
}
