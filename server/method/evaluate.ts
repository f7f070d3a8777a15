// Accuracy and imitation loss on a split, in batches, with every net in inference mode.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/types';
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

/** Accuracy and mean cross-entropy of `logits` (which must not train) on a split. */
export async function evaluate(logits: (x: tf.Tensor) => tf.Tensor, split: Split, exampleShape: number[]): Promise<Evaluation> {
  if (split.count === 0) return { accuracy: NaN, loss: NaN };
  let correct = 0;
  let lossSum = 0;
  for (const batch of sequentialBatches(split, exampleShape, EVAL_BATCH)) {
    const [hits, loss] = tf.tidy(() => {
      const out = logits(batch.x);
      const hit = tf.sum(tf.cast(tf.equal(tf.argMax(out, -1), batch.y), 'int32'));
      return [hit, tf.mul(crossEntropy(out, batch.y), batch.size)];
    });
    correct += (await hits.data())[0];
    lossSum += (await loss.data())[0];
    tf.dispose([hits, loss, batch.x, batch.y]);
    await yieldToEventLoop();
  }
  return { accuracy: correct / split.count, loss: lossSum / split.count };
}

export async function accuracy(logits: (x: tf.Tensor) => tf.Tensor, split: Split, exampleShape: number[]): Promise<number> {
  return (await evaluate(logits, split, exampleShape)).accuracy;
}

/** Mean of a per-batch scalar over (at most `limit` examples of) a split. */
export async function meanOverSplit(
  value: (x: tf.Tensor, y: tf.Tensor1D) => tf.Scalar,
  split: Split,
  exampleShape: number[],
  limit = Infinity,
): Promise<number> {
  let total = 0;
  let count = 0;
  for (const batch of sequentialBatches(split, exampleShape, EVAL_BATCH)) {
    if (count >= limit) {
      batch.x.dispose();
      batch.y.dispose();
      break;
    }
    const v = tf.tidy(() => value(batch.x, batch.y));
    total += (await v.data())[0] * batch.size;
    count += batch.size;
    v.dispose();
    batch.x.dispose();
    batch.y.dispose();
  }
  return count === 0 ? NaN : total / count;
}
