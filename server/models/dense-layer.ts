// tf.layers' Dense, computed in training by server/engine's fused dense op where it can run (the wasm
// backend with the native addon): one kernel forward instead of MatMul, Add and the activation's
// kernels, and its own gradient. Inputs of rank 3 and more are the rows of their last axis (as
// tf.layers computes them); an activation the op does not apply (gelu) follows it as its own op.
// Everywhere else it is the layer itself. Same weights, config and class name, so checkpoints and
// exported models are unchanged and load into tf.layers.
import * as tf from '@tensorflow/tfjs';
import type { DenseLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/core';
import { dense } from '../engine/kernels/dense';
import { fusedActivationRuns } from '../engine/kernels/relu-grad';
import { DENSE } from '../engine/native/blas-kernels';

type LayerVariable = ReturnType<tf.layers.Layer['addWeight']>;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];

/** The layer's private state this subclass reads (tfjs-layers declares it private). */
interface DenseState {
  kernel: LayerVariable;
  bias: LayerVariable | null;
  activation: { getClassName(): string; apply(x: tf.Tensor): tf.Tensor };
}

// tfjs-layers exports the factory, not the class: take the class from an instance.
const DenseLayer = tf.layers.dense({ units: 1 }).constructor as new (args: DenseLayerArgs) => tf.layers.Layer;

export class FusedDense extends DenseLayer {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const state = this as unknown as DenseState;
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const fused = tf.tidy(() => {
      const kernel = state.kernel.read();
      const rows = x.rank > 2 ? tf.reshape(x, [-1, kernel.shape[0]]) : x;
      const activation = state.activation.getClassName();
      const inside = fusedActivationRuns(DENSE, activation) ? activation : 'linear';
      const z = dense(rows, kernel, state.bias?.read() ?? null, inside);
      if (z == null) return undefined;
      const y = inside === activation ? z : state.activation.apply(z);
      return x.rank > 2 ? tf.reshape(y, [...x.shape.slice(0, -1), kernel.shape[1]] as number[]) : y;
    }) as tf.Tensor | undefined;
    return fused ?? super.call(inputs, kwargs);
  }
}
