// tf.layers' Dense, computed in training by server/engine's fused dense op where it can run (the wasm
// backend with the native addon, a 2-D input, a linear or ReLU activation): one kernel forward instead
// of MatMul, Add and Relu, and its own gradient. Everywhere else it is the layer itself. Same weights,
// config and class name, so checkpoints and exported models are unchanged and load into tf.layers.
import * as tf from '@tensorflow/tfjs';
import type { DenseLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/core';
import { dense } from '../engine/kernels/dense';

type LayerVariable = ReturnType<tf.layers.Layer['addWeight']>;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];

/** The layer's private state this subclass reads (tfjs-layers declares it private). */
interface DenseState {
  kernel: LayerVariable;
  bias: LayerVariable | null;
  activation: { getClassName(): string };
}

// tfjs-layers exports the factory, not the class: take the class from an instance.
const DenseLayer = tf.layers.dense({ units: 1 }).constructor as new (args: DenseLayerArgs) => tf.layers.Layer;

export class FusedDense extends DenseLayer {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const state = this as unknown as DenseState;
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const fused = dense(x, state.kernel.read(), state.bias?.read() ?? null, state.activation.getClassName());
    return fused ?? super.call(inputs, kwargs);
  }
}
