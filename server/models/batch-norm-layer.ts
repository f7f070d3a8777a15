// tf.layers' BatchNormalization, whose training-mode call runs server/engine's fused batch-norm op
// (two native kernels forward, two back, instead of ~12 passes over the activation) where it can:
// the wasm backend with the native addon, normalization over the last axis. Everywhere else
// (inference, other backends) it is the layer itself. Same weights, same config and the same class
// name, so checkpoints and exported models are unchanged and load into the standard layer.
import * as tf from '@tensorflow/tfjs';
import type { BatchNormalization, BatchNormalizationLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/normalization';
import { batchNormTraining } from '../engine/kernels/batch-norm-training';

type LayerVariable = ReturnType<tf.layers.Layer['addWeight']>;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];

/** The layer's private state this subclass reads (tfjs-layers declares it private). */
interface BatchNormState {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: LayerVariable;
  beta?: LayerVariable;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
}

// tfjs-layers exports the factory, not the class: take the class from an instance.
const BatchNormalizationLayer = tf.layers.batchNormalization().constructor as new (args?: BatchNormalizationLayerArgs) => BatchNormalization;

export class FusedTrainingBatchNormalization extends BatchNormalizationLayer {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const state = this as unknown as BatchNormState;
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const lastAxis = state.axis === -1 || state.axis === x.rank - 1;
    if (kwargs.training !== true || !lastAxis || state.gamma == null || state.beta == null) return super.call(inputs, kwargs);
    const fused = batchNormTraining(x, state.gamma.read(), state.beta.read(), state.epsilon);
    if (fused == null) return super.call(inputs, kwargs);
    // The moving averages as the layer updates them: moving - (moving - batch value) * (1 - momentum).
    for (const [variable, value] of [[state.movingMean, fused.mean], [state.movingVariance, fused.variance]] as const) {
      tf.tidy(() => {
        const original = variable.read();
        variable.write(tf.sub(original, tf.mul(tf.sub(original, value), 1 - state.momentum)));
      });
    }
    tf.dispose([fused.mean, fused.variance]);
    return fused.y;
  }
}
