// The block structure every model family exposes, so the three stages can treat an MLP, a CNN,
// a residual CNN and a transformer encoder alike: stem -> blocks[0..depth-1] -> head.
import type * as tf from '@tensorflow/tfjs';
import type { ModelFamily } from '../protocol';
import type { ModelConfig } from '../experiment/types';

/** One trainable piece of a net: a stem, a block, a head or an imitation projection. */
export interface NetPart {
  readonly name: string;
  /** Trainable variables (what an optimizer updates when this part trains). */
  trainableVariables(): tf.Variable[];
  /** Non-trainable state (BatchNorm moving statistics), saved in checkpoints. */
  stateVariables(): tf.Variable[];
  /** Applies the part; `training` switches dropout and BatchNorm batch statistics (and their updates). */
  apply(x: tf.Tensor, training: boolean): tf.Tensor;
  /** Shape of one example's output (no batch axis). */
  readonly outputShape: number[];
  /** Trainable parameter count (BatchNorm moving statistics excluded) and multiply-accumulates per example. */
  readonly params: number;
  readonly flops: number;
  /** Frees this part's variables (projections are disposed by whoever built them). */
  dispose(): void;
}

export interface DataShape {
  /** As Dataset.exampleShape: [features] | [h, w, c] | [sequenceLength]. */
  exampleShape: number[];
  numClasses: number;
  vocabSize?: number;
}

export interface NetSpec {
  family: ModelFamily;
  model: ModelConfig;
  data: DataShape;
  /** Per-block widening factor; all 1 for the thin net. */
  factors: number[];
  /** "inside": widen inside blocks, keep block interfaces (block outputs of thin and wide have the same
   *  shape, so the head and stem shapes match); "all": block outputs are widened too. */
  mode: 'inside' | 'all';
  seed: number;
}

export interface BlockNet {
  readonly spec: NetSpec;
  readonly stem: NetPart;
  readonly blocks: NetPart[];
  readonly head: NetPart;
  /** Parameters and FLOPs of the deployable net (stem + blocks + head; never projections). */
  readonly params: number;
  readonly flops: number;
  /** stem -> blocks -> head: logits [batch, numClasses]. */
  forward(x: tf.Tensor, training: boolean): tf.Tensor;
  /** Output of the stem (index 0) and of every block up to and including `lastBlock` (index i+1). */
  hiddenStates(x: tf.Tensor, training: boolean, lastBlock?: number): tf.Tensor[];
  /** Every part's variables, trainable and state, by a stable name (for checkpoints). */
  namedVariables(): Map<string, tf.Variable>;
  /** A standalone tf.LayersModel with this net's current weights (projections excluded), which
   *  tf.loadLayersModel can read back after model.save(). */
  toLayersModel(): tf.LayersModel;
  dispose(): void;
}

/** Builds a projection mapping a thin hidden state shape to a wide one (linear over the feature /
 *  channel axis), used only to shape the imitation loss and never deployed. */
export type ProjectionBuilder = (from: number[], to: number[], seed: number, name: string) => NetPart;
