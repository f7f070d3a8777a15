// tf.layers' BatchNormalization and LayerNormalization, computed by server/engine's fused ops where
// they can run (the wasm backend with the native addon, normalization over the last axis):
//   BatchNormalization in training: two native kernels forward, two back, instead of ~12 passes
//     over the activation (inference stays the layer's own: one batch-norm kernel already);
//   LayerNormalization: one pass forward and one back instead of moments, four Tiles and the
//     batch-norm kernel, and their gradients; applyToSum runs it on a + b (the residual add
//     before it) in the same passes.
//   A BatchNormalization directly followed by a ReLU layer (reluFollows, set by the model's builder
//     when the ReLU is the BatchNorm's only consumer) computes max(0, y) in the same kernels in
//     training; the ReLU layer (FusableRelu) then passes that output on without another pass. An
//     Add (FusableAdd) followed so does the same with max(0, a + b), in training and inference.
// Everywhere else they are the layers themselves. Same weights, same config and the same class
// names, so checkpoints and exported models are unchanged and load into the standard layers.
import * as tf from '@tensorflow/tfjs';
import type {
  BatchNormalization,
  BatchNormalizationLayerArgs,
  LayerNormalization,
  LayerNormalizationLayerArgs,
} from '@tensorflow/tfjs-layers/dist/layers/normalization';
import { addLayerNorm, batchNormReluTraining, batchNormTraining, layerNorm, movingAverages } from '../engine/kernels/fused-normalization';
import { addRelu } from '../engine/kernels/add-relu';

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

// tfjs-layers exports the factories, not the classes: take the classes from instances.
const BatchNormalizationLayer = tf.layers.batchNormalization().constructor as new (args?: BatchNormalizationLayerArgs) => BatchNormalization;
const LayerNormalizationLayer = tf.layers.layerNormalization().constructor as new (args?: LayerNormalizationLayerArgs) => LayerNormalization;

/** Outputs of fused BatchNorm + ReLU (or Add + ReLU): already through the ReLU that follows. */
const reluApplied = new WeakSet<tf.Tensor>();

export class FusedTrainingBatchNormalization extends BatchNormalizationLayer {
  /**
   * Set by the model's builder (not part of the config) when this layer's only consumer is a
   * FusableRelu layer: then training outputs max(0, y), which that layer passes on.
   */
  reluFollows = false;

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const state = this as unknown as BatchNormState;
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const lastAxis = state.axis === -1 || state.axis === x.rank - 1;
    if (kwargs.training !== true || !lastAxis || state.gamma == null || state.beta == null) return super.call(inputs, kwargs);
    const [gamma, beta] = [state.gamma.read(), state.beta.read()];
    const withRelu = this.reluFollows ? batchNormReluTraining(x, gamma, beta, state.epsilon) : null;
    const fused = withRelu ?? batchNormTraining(x, gamma, beta, state.epsilon);
    if (fused == null) return super.call(inputs, kwargs);
    if (withRelu != null) reluApplied.add(fused.y);
    // The moving averages as the layer updates them: moving - (moving - batch value) * (1 - momentum).
    const [movingMean, movingVariance] = movingAverages(state.movingMean.read(), state.movingVariance.read(), fused.mean, fused.variance, state.momentum);
    state.movingMean.write(movingMean);
    state.movingVariance.write(movingVariance);
    tf.dispose([fused.mean, fused.variance, movingMean, movingVariance]);
    return fused.y;
  }
}

const ActivationLayer = tf.layers.activation({ activation: 'relu' }).constructor as new (args: { name?: string; activation: 'relu' }) => tf.layers.Layer;

/**
 * tf.layers' Activation('relu') that passes on a FusedTrainingBatchNormalization (or FusableAdd) output already
 * through the ReLU (as a reshape, which shares the data: the layer copies an input returned as is).
 */
export class FusableRelu extends ActivationLayer {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (reluApplied.has(x)) return tf.reshape(x, x.shape);
    return super.call(inputs, kwargs);
  }
}

const AddLayer = tf.layers.add().constructor as new (args?: { name?: string }) => tf.layers.Layer;

/**
 * tf.layers' Add that, when the builder sets reluFollows (its only consumer is a FusableRelu
 * layer), outputs max(0, a + b) in one fused op on wasm+native, which that layer passes on.
 */
export class FusableAdd extends AddLayer {
  /** Set by the model's builder (not part of the config). */
  reluFollows = false;

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const fused = this.reluFollows && Array.isArray(inputs) && inputs.length === 2 ? addRelu(inputs[0], inputs[1]) : null;
    if (fused == null) return super.call(inputs, kwargs);
    reluApplied.add(fused);
    return fused;
  }
}

/** The LayerNormalization state this subclass reads (private in tfjs-layers); axis is a list once built. */
interface LayerNormState {
  axis: number | number[];
  epsilon: number;
  gamma: LayerVariable | null;
  beta: LayerVariable | null;
}

export class FusedLayerNormalization extends LayerNormalizationLayer {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const weights = this.lastAxisWeights(x);
    return (weights && layerNorm(x, weights.gamma, weights.beta, weights.epsilon)) ?? super.call(inputs, kwargs);
  }

  /**
   * This layer applied to a + b (a residual add before it) as one fused op, eagerly; null where
   * that cannot run (then apply the Add layer and this one).
   */
  applyToSum(a: tf.Tensor, b: tf.Tensor): tf.Tensor | null {
    const weights = this.built ? this.lastAxisWeights(a) : null;
    return weights && addLayerNorm(a, b, weights.gamma, weights.beta, weights.epsilon);
  }

  /** gamma, beta and epsilon where the layer normalizes x over its last axis with both weights. */
  private lastAxisWeights(x: tf.Tensor): { gamma: tf.Tensor; beta: tf.Tensor; epsilon: number } | null {
    const state = this as unknown as LayerNormState;
    const axes = Array.isArray(state.axis) ? state.axis : [state.axis];
    const lastAxis = axes.length === 1 && (axes[0] === -1 || axes[0] === x.rank - 1);
    if (!lastAxis || state.gamma == null || state.beta == null) return null;
    return { gamma: state.gamma.read(), beta: state.beta.read(), epsilon: state.epsilon };
  }
}
