// Mini-batches from a data split: a fresh seeded shuffle every epoch, each batch gathered into one
// reusable typed array so building the batch tensor is a single copy.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/types';
import { permutation, seededRandom, type Random } from './rng';

export interface Batch {
  x: tf.Tensor;
  /** Integer labels, shape [batch]. */
  y: tf.Tensor1D;
  size: number;
}

/** Full batches per epoch of `count` examples (the last partial batch is dropped); at least one. */
export function stepsPerEpoch(count: number, batchSize: number): number {
  return Math.max(1, Math.floor(count / Math.min(batchSize, count)));
}

export class BatchStream {
  private readonly featureSize: number;
  private readonly random: Random;
  private order: Int32Array = new Int32Array(0);
  private cursor = 0;
  private epochsStarted = 0;
  private readonly xBuffer: Float32Array;
  private readonly yBuffer: Int32Array;

  constructor(
    private readonly split: Split,
    private readonly exampleShape: number[],
    readonly batchSize: number,
    seed: number,
  ) {
    if (split.count === 0) throw new Error('the data split is empty');
    this.featureSize = exampleShape.reduce((a, b) => a * b, 1);
    this.random = seededRandom(seed);
    const size = Math.min(batchSize, split.count);
    this.xBuffer = new Float32Array(size * this.featureSize);
    this.yBuffer = new Int32Array(size);
  }

  /** Full batches per epoch (the last partial batch of an epoch is dropped; the shuffle changes). */
  get stepsPerEpoch(): number {
    return stepsPerEpoch(this.split.count, this.batchSize);
  }

  /** Epochs begun so far (1 after the first batch). */
  get epoch(): number {
    return this.epochsStarted;
  }

  /** The next batch as tensors; the caller disposes them (or creates them inside tf.tidy). */
  next(): Batch {
    const size = this.yBuffer.length;
    if (this.cursor + size > this.order.length) {
      this.order = permutation(this.split.count, this.random);
      this.cursor = 0;
      this.epochsStarted++;
    }
    const f = this.featureSize;
    for (let i = 0; i < size; i++) {
      const index = this.order[this.cursor + i];
      this.xBuffer.set(this.split.x.subarray(index * f, index * f + f), i * f);
      this.yBuffer[i] = this.split.y[index];
    }
    this.cursor += size;
    return {
      x: tf.tensor(this.xBuffer, [size, ...this.exampleShape], 'float32'),
      y: tf.tensor1d(this.yBuffer, 'int32'),
      size,
    };
  }
}

/** Splits a data split into consecutive (unshuffled) batches, for evaluation. */
export function* sequentialBatches(split: Split, exampleShape: number[], batchSize: number): Generator<Batch> {
  const f = exampleShape.reduce((a, b) => a * b, 1);
  for (let start = 0; start < split.count; start += batchSize) {
    const size = Math.min(batchSize, split.count - start);
    yield {
      x: tf.tensor(split.x.subarray(start * f, (start + size) * f), [size, ...exampleShape], 'float32'),
      y: tf.tensor1d(split.y.subarray(start, start + size), 'int32'),
      size,
    };
  }
}
