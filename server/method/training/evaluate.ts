// Accuracy and imitation loss on a split, in batches, with every net in inference mode.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../../data/types';
import { sequentialBatches } from './batches';
import { crossEntropy } from './losses';
import { yieldToEventLoop } from './train-loop';

const EVAL_BATCH = 500;

export interface Evaluation {
  /** Fraction of examples whose arg-max logit equals the label. */
  accuracy: number;
  /** Mean cross-entropy. */
  loss: number;
}

/** Accuracy and mean cross-entropy of `logits` (which must not train) on a split. The per-batch
 *  figures stay on the device until one read at the end; they are summed here, in order, as before. */
export async function evaluate(logits: (x: tf.Tensor) => tf.Tensor, split: Split, exampleShape: number[]): Promise<Evaluation> {
  if (split.count === 0) return { accuracy: NaN, loss: NaN };
  const perBatch: tf.Tensor[] = [];
  for (const batch of sequentialBatches(split, exampleShape, EVAL_BATCH)) {
    perBatch.push(
      tf.tidy(() => {
        const out = logits(batch.x);
        const hits = tf.sum(tf.cast(tf.equal(tf.argMax(out, -1), batch.y), 'float32'));
        return tf.stack([hits, tf.mul(crossEntropy(out, batch.y), batch.size)]);
      }),
    );
    tf.dispose([batch.x, batch.y]);
    await yieldToEventLoop();
  }
  const values = await readAll(perBatch);
  let correct = 0;
  let lossSum = 0;
  for (let i = 0; i < values.length; i += 2) {
    correct += values[i];
    lossSum += values[i + 1];
  }
  return { accuracy: correct / split.count, loss: lossSum / split.count };
}

/** The values of some tensors, concatenated, in one read; disposes them. */
async function readAll(tensors: tf.Tensor[]): Promise<Float32Array | Int32Array | Uint8Array> {
  const joined = tf.tidy(() => tf.concat(tensors.map((t) => t.flatten())));
  tf.dispose(tensors);
  try {
    return await joined.data();
  } finally {
    joined.dispose();
  }
}

export async function accuracy(logits: (x: tf.Tensor) => tf.Tensor, split: Split, exampleShape: number[]): Promise<number> {
  return (await evaluate(logits, split, exampleShape)).accuracy;
}

/** Mean of a per-batch scalar over (at most `limit` examples of) a split, read back once. */
export async function meanOverSplit(
  value: (x: tf.Tensor, y: tf.Tensor1D) => tf.Scalar,
  split: Split,
  exampleShape: number[],
  limit = Infinity,
): Promise<number> {
  const perBatch: tf.Tensor[] = [];
  const sizes: number[] = [];
  let count = 0;
  for (const batch of sequentialBatches(split, exampleShape, EVAL_BATCH)) {
    if (count >= limit) {
      tf.dispose([batch.x, batch.y]);
      break;
    }
    perBatch.push(tf.tidy(() => value(batch.x, batch.y)));
    sizes.push(batch.size);
    count += batch.size;
    tf.dispose([batch.x, batch.y]);
  }
  if (count === 0) return NaN;
  const values = await readAll(perBatch);
  return sizes.reduce((total, size, i) => total + values[i] * size, 0) / count;
}
