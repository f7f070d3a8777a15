// Custom tf.layers for the transformer family (tfjs-layers has no attention layer). Both are
// registered with tf.serialization at import time, so tf.loadLayersModel can read an exported
// gowide transformer once this module (or server/models) has been imported.
import * as tf from '@tensorflow/tfjs';
import { layerSeed } from './initializers';
import type { CountsMacs } from './layer-part';
import { fusedAttention } from '../engine/kernels/attention';
import { dense } from '../engine/kernels/dense';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type LayerVariable = ReturnType<tf.layers.Layer['addWeight']>;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];

function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

function lastAxis(shape: tf.Shape | tf.Shape[]): number {
  const s = (Array.isArray(shape[0]) ? shape[0] : shape) as tf.Shape;
  const d = s[s.length - 1];
  if (d == null) throw new Error('the feature axis must be known');
  return d;
}

/** x W + b for x [rows, in]: one fused op where the native addon runs it, else a product and an add. */
function affine(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  return dense(x, kernel, bias, 'linear') ?? tf.add(tf.matMul(x, kernel), bias);
}

export interface PositionEmbeddingArgs extends LayerArgs {
  /** Seed of the N(0, 0.02) initializer. */
  seed: number;
}

/** Adds a learned embedding per position: [batch, seq, hidden] -> same shape. */
export class PositionEmbedding extends tf.layers.Layer {
  static readonly className = 'GowidePositionEmbedding';
  private readonly seed: number;
  private embeddings!: LayerVariable;

  constructor(args: PositionEmbeddingArgs) {
    super(args);
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const sequenceLength = s[1];
    if (sequenceLength == null) throw new Error('PositionEmbedding needs a fixed sequence length');
    this.embeddings = this.addWeight(
      'embeddings',
      [sequenceLength, lastAxis(inputShape)],
      'float32',
      tf.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: this.seed }),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.add(single(inputs), this.embeddings.read());
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), seed: this.seed };
  }
}

export interface MultiHeadSelfAttentionArgs extends LayerArgs {
  heads: number;
  headDim: number;
  seed: number;
}

/**
 * Multi-head self-attention without masking: [batch, seq, hidden] -> [batch, seq, hidden].
 * Queries, keys and values map hidden -> heads * headDim; the output maps back to hidden, so the
 * attention can be wider than the residual stream (how "inside" widening widens heads).
 */
export class MultiHeadSelfAttention extends tf.layers.Layer implements CountsMacs {
  static readonly className = 'GowideMultiHeadSelfAttention';
  readonly heads: number;
  readonly headDim: number;
  private readonly seed: number;
  private weightsByName: Record<string, LayerVariable> = {};

  constructor(args: MultiHeadSelfAttentionArgs) {
    super(args);
    this.heads = args.heads;
    this.headDim = args.headDim;
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const hidden = lastAxis(inputShape);
    const inner = this.heads * this.headDim;
    const kernel = (name: string, shape: number[]) =>
      this.addWeight(name, shape, 'float32', tf.initializers.glorotUniform({ seed: layerSeed(this.seed, name) }));
    const bias = (name: string, size: number) => this.addWeight(name, [size], 'float32', tf.initializers.zeros());
    this.weightsByName = {
      queryKernel: kernel('query_kernel', [hidden, inner]),
      queryBias: bias('query_bias', inner),
      keyKernel: kernel('key_kernel', [hidden, inner]),
      keyBias: bias('key_bias', inner),
      valueKernel: kernel('value_kernel', [hidden, inner]),
      valueBias: bias('value_bias', inner),
      outputKernel: kernel('output_kernel', [inner, hidden]),
      outputBias: bias('output_bias', hidden),
    };
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const [batch, sequence, hidden] = x.shape;
      const w = (name: string) => this.weightsByName[name].read();
      const inner = this.heads * this.headDim;
      const rows = tf.reshape(x, [batch * sequence, hidden]);
      // [batch*seq, hidden] -> [batch, seq, heads * headDim]
      const project = (kernel: string, bias: string) => tf.reshape(affine(rows, w(kernel), w(bias)), [batch, sequence, inner]);
      const [query, key, value] = [project('queryKernel', 'queryBias'), project('keyKernel', 'keyBias'), project('valueKernel', 'valueBias')];
      const scale = 1 / Math.sqrt(this.headDim);
      // One op where the native addon runs it (server/engine/kernels/attention.ts), else TF.js's ops.
      const context = fusedAttention(query, key, value, this.heads, scale) ?? this.attendByOps(query, key, value, scale);
      const merged = tf.reshape(context, [batch * sequence, inner]);
      const output = affine(merged, w('outputKernel'), w('outputBias'));
      return tf.reshape(output, [batch, sequence, hidden]);
    });
  }

  /** softmax(scale * q k^T) v per head of q, k, v [batch, seq, heads * headDim], as TF.js ops; same layout out. */
  private attendByOps(query: tf.Tensor, key: tf.Tensor, value: tf.Tensor, scale: number): tf.Tensor {
    const [batch, sequence, inner] = query.shape;
    // [batch, seq, heads * headDim] <-> [batch, heads, seq, headDim]
    const splitHeads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [batch, sequence, this.heads, this.headDim]), [0, 2, 1, 3]);
    const scores = tf.mul(tf.matMul(splitHeads(query), splitHeads(key), false, true), scale);
    const context = tf.matMul(tf.softmax(scores), splitHeads(value));
    return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch, sequence, inner]);
  }

  macsPerExample(inputShape: number[]): number {
    const [sequence, hidden] = inputShape;
    const inner = this.heads * this.headDim;
    // q, k, v and output maps + scores and weighted sum
    return 4 * sequence * hidden * inner + 2 * sequence * sequence * inner;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), heads: this.heads, headDim: this.headDim, seed: this.seed };
  }
}

tf.serialization.registerClass(PositionEmbedding);
tf.serialization.registerClass(MultiHeadSelfAttention);
