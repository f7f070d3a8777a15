// tf.layers' Conv2D that, without bias and activation (a BatchNorm follows), runs the plain conv2d
// op instead of tf.fused.conv2d. Same kernel, same values; the difference is the gradient:
// tf.fused.conv2d's (a tf.customGrad) computes the gradients of the input and of the filter every
// time, while conv2d's registered gradient computes each only when asked. So the first layer of a
// net no longer computes the gradient of its input (the data), which nothing uses: one
// Conv2DBackpropInput per training step (~2-3% of the residual CNN's step). With a bias or a ReLU
// (a plain CNN), it runs server/engine's fused conv where it can (the wasm backend with the native
// addon): one kernel forward instead of Conv2D, Add and Relu in training, and a gradient that also
// computes each input's only when asked. Same class name, weights and config as the standard layer
// (checkpoints and exported models are unchanged).
import * as tf from '@tensorflow/tfjs';
import type { Conv2D } from '@tensorflow/tfjs-layers/dist/layers/convolutional';
import { fusedConv2d } from '../engine/kernels/fused-conv';

type ConvArgs = NonNullable<Parameters<typeof tf.layers.conv2d>[0]>;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];

// tfjs-layers exports the factory, not the class: take the class from an instance.
const Conv2DLayer = tf.layers.conv2d({ filters: 1, kernelSize: 1 }).constructor as new (args: ConvArgs) => Conv2D;

export class PlainConv2D extends Conv2DLayer {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (this.dataFormat !== 'channelsLast' || x.rank !== 4 || this.padding === 'causal') return super.call(inputs, kwargs);
    const strides: [number, number] = [this.strides[0], this.strides[1]];
    const dilations: [number, number] = [this.dilationRate[0], this.dilationRate[1]];
    const activation = this.activation.getClassName();
    if (!this.useBias && activation === 'linear') return tf.conv2d(x as tf.Tensor4D, this.kernel.read() as tf.Tensor4D, strides, this.padding, 'NHWC', dilations);
    const fused = fusedConv2d(x, this.kernel.read(), this.useBias ? this.bias.read() : null, { strides, padding: this.padding, dilations, activation });
    return fused ?? super.call(inputs, kwargs);
  }
}
