// A convolution's bias and ReLU fused into it, with its own gradient, for the wasm backend with the
// native addon. In training TF.js splits a fused conv2d with an activation into Conv2D, Add and Relu
// (tfjs-core fuses only outside gradient recording, or for a linear activation), each a pass over
// the whole feature map; GowideConv is the native FusedConv2D kernel (bias and ReLU applied as the
// output is written), and its gradient is the ReLU's gradient from the output (GowideReluGrad), the
// input and filter gradients (each computed only when asked: the first layer's input gradient is
// not) and the bias's sums over batch, rows and columns.
import * as tf from '@tensorflow/tfjs';
import { getGradient, registerGradient } from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { CONV } from '../native/conv-kernels';
import { fusedActivationRuns, gradientAndBiasSum } from './relu-grad';

const convGrad: GradConfig = {
  kernelName: CONV,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs: NamedAttrMap) => {
    const [x, filter, y] = saved;
    const { dz, dbias } = gradientAndBiasSum(dy as Tensor, y, attrs.activation);
    const shared = { strides: attrs.strides, pad: attrs.pad, dataFormat: 'NHWC', dimRoundingMode: attrs.dimRoundingMode };
    return {
      x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter }, { ...shared, inputShape: x.shape }) as Tensor,
      filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dz }, { ...shared, filterShape: filter.shape }) as Tensor,
      bias: dbias,
    };
  },
};

/**
 * activation(conv2d(x, filter) + bias) for NHWC float32 x and filter [h, w, in, out] (bias [out] or
 * null), 'same' or 'valid' padding, no dilation; differentiable in all three. Null where it cannot
 * run (another backend, another activation or shape).
 */
export function fusedConv2d(x: Tensor, filter: Tensor, bias: Tensor | null, o: { strides: [number, number]; padding: 'same' | 'valid'; dilations: [number, number]; activation: string }): Tensor | null {
  if (!fusedActivationRuns(CONV, o.activation)) return null;
  if (x.rank !== 4 || filter.rank !== 4 || x.shape[3] !== filter.shape[2] || o.dilations.some((d) => d !== 1)) return null;
  if ([x, filter, bias].some((t) => t != null && t.dtype !== 'float32')) return null;
  if (bias != null && (bias.rank !== 1 || bias.shape[0] !== filter.shape[3])) return null;
  if (getGradient(CONV) == null) registerGradient(convGrad);
  const attrs = { strides: o.strides, pad: o.padding, dataFormat: 'NHWC', dilations: o.dilations, activation: o.activation };
  const inputs: Record<string, Tensor> = bias == null ? { x, filter } : { x, filter, bias };
  return tf.engine().runKernel(CONV, inputs, attrs) as Tensor;
}
