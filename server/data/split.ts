// Turns a loaded training pool and test set into the train / validation / test splits of a Dataset.
import { shuffledIndices } from './random';
import { featureSize, type Dataset, type Split } from './types';

/** A data set as read from disk or generated, before splitting. */
export type UnsplitDataset = Omit<Dataset, 'train' | 'validation' | 'test'> & {
  /** Everything available for training (train + validation). */
  trainPool: Split;
  test: Split;
};

export interface SplitOptions {
  /** At most this many training-pool examples (0 = all), taken after the seeded shuffle. */
  trainLimit: number;
  /** The first N test examples, in file order (0 = all): the same for every seed. */
  testLimit: number;
  /** Fraction of the (limited) training pool held out as the validation split. */
  validationSplit: number;
}

/** Rows `indices` of `split`, copied. */
export function selectRows(split: Split, indices: ArrayLike<number>, size: number): Split {
  const x = new Float32Array(indices.length * size);
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const row = indices[i];
    x.set(split.x.subarray(row * size, (row + 1) * size), i * size);
    y[i] = split.y[row];
  }
  return { x, y, count: indices.length };
}

/** The first `count` rows of `split` (no copy). */
export function firstRows(split: Split, count: number, size: number): Split {
  const n = Math.min(count, split.count);
  return { x: split.x.subarray(0, n * size), y: split.y.subarray(0, n), count: n };
}

/** How a (limited) training pool of `poolCount` examples divides into training and validation. */
export function splitCounts(poolCount: number, validationSplit: number): { train: number; validation: number } {
  const validation = Math.round(poolCount * validationSplit);
  return { train: poolCount - validation, validation };
}

/**
 * Seeded shuffle of the training pool, cut to trainLimit; its last validationSplit fraction becomes
 * the validation split. The test split is the first testLimit test examples, independent of the seed,
 * so every seed and every arm is evaluated on the same test examples.
 */
export function splitDataset(data: UnsplitDataset, options: SplitOptions, seed: number): Dataset {
  const size = featureSize(data.exampleShape);
  const order = shuffledIndices(data.trainPool.count, seed);
  const poolCount = options.trainLimit > 0 ? Math.min(options.trainLimit, order.length) : order.length;
  const trainCount = splitCounts(poolCount, options.validationSplit).train;
  const { trainPool, test, ...rest } = data;
  return {
    ...rest,
    train: selectRows(trainPool, order.subarray(0, trainCount), size),
    validation: selectRows(trainPool, order.subarray(trainCount, poolCount), size),
    test: options.testLimit > 0 ? firstRows(test, options.testLimit, size) : test,
  };
}
