// Mini-batches from a data split, a fresh seeded shuffle every epoch. On a GPU backend, where the
// split fits (RESIDENT_DATA_BYTES, and the device's buffer limits), it is uploaded once and batches
// are cut on the device: only the batch's indices in the seeded order go up (an int32 tensor), and a
// gather does the rest. Otherwise each batch is gathered on the CPU into one reusable typed array, so
// building its tensor is a single copy. Both give the same batches, value for value.
import * as tf from '@tensorflow/tfjs';
import { featureSize, type Split } from '../../data/types';
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

/** Largest training split (features and labels) kept on the device for a phase: room for the
 *  models beside it on a small GPU, and no more than a wasm heap grows by comfortably. */
export const RESIDENT_DATA_BYTES = 256 * 2 ** 20;

/** Backends whose kernels work in host memory: a batch costs them one copy at most (wasm into its
 *  heap; cpu none), and gathering it in wasm was measured no faster (72 against 62 us of CPU for 128 x
 *  784 floats), so a resident copy would only double the split's memory. */
const HOST_MEMORY_BACKENDS = ['wasm', 'cpu'];

/** Bytes of training data the active backend keeps on its device: none on a host-memory backend; a
 *  WebGPU device binds a tensor as one storage buffer, so its limits bound it too. */
export function residentDataLimit(): number {
  if (HOST_MEMORY_BACKENDS.includes(tf.getBackend())) return 0;
  const limits = (tf.backend() as { device?: { limits?: { maxStorageBufferBindingSize: number; maxBufferSize: number } } }).device?.limits;
  return limits ? Math.min(RESIDENT_DATA_BYTES, limits.maxStorageBufferBindingSize, limits.maxBufferSize) : RESIDENT_DATA_BYTES;
}

/** A split on the device. */
interface ResidentSplit {
  x: tf.Tensor;
  y: tf.Tensor1D;
}

function upload(split: Split, exampleShape: number[]): ResidentSplit {
  const x = split.x.subarray(0, split.count * featureSize(exampleShape));
  return { x: tf.tensor(x, [split.count, ...exampleShape], 'float32'), y: tf.tensor1d(split.y.subarray(0, split.count), 'int32') };
}

export class BatchStream {
  private readonly featureSize: number;
  private readonly random: Random;
  private order: Int32Array = new Int32Array(0);
  private cursor = 0;
  private epochsStarted = 0;
  readonly size: number;
  private readonly resident: ResidentSplit | undefined;
  private readonly xBuffer: Float32Array;
  private readonly yBuffer: Int32Array;

  /** `limit`: the most bytes the split may take on the device (default residentDataLimit()). */
  constructor(
    private readonly split: Split,
    private readonly exampleShape: number[],
    readonly batchSize: number,
    seed: number,
    limit = residentDataLimit(),
  ) {
    if (split.count === 0) throw new Error('the data split is empty');
    this.featureSize = exampleShape.reduce((a, b) => a * b, 1);
    this.random = seededRandom(seed);
    this.size = Math.min(batchSize, split.count);
    const fits = split.count * (this.featureSize + 1) * 4 <= limit;
    this.resident = fits ? upload(split, exampleShape) : undefined;
    this.xBuffer = new Float32Array(fits ? 0 : this.size * this.featureSize);
    this.yBuffer = new Int32Array(fits ? 0 : this.size);
  }

  /** Whether the split lives on the device (uploaded once) rather than going up batch by batch. */
  get onDevice(): boolean {
    return this.resident !== undefined;
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
    const size = this.size;
    if (this.cursor + size > this.order.length) {
      this.order = permutation(this.split.count, this.random);
      this.cursor = 0;
      this.epochsStarted++;
    }
    const start = this.cursor;
    this.cursor += size;
    if (this.resident) {
      const { x, y } = this.resident;
      return tf.tidy(() => {
        const indices = tf.tensor1d(this.order.subarray(start, start + size), 'int32');
        return { x: tf.gather(x, indices), y: tf.gather(y, indices), size };
      });
    }
    const f = this.featureSize;
    for (let i = 0; i < size; i++) {
      const index = this.order[start + i];
      this.xBuffer.set(this.split.x.subarray(index * f, index * f + f), i * f);
      this.yBuffer[i] = this.split.y[index];
    }
    return {
      x: tf.tensor(this.xBuffer, [size, ...this.exampleShape], 'float32'),
      y: tf.tensor1d(this.yBuffer, 'int32'),
      size,
    };
  }

  /** Frees the split's device copy. */
  dispose(): void {
    if (this.resident) tf.dispose([this.resident.x, this.resident.y]);
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
