// Training samples/s of one model on the active TF.js backend: batch 128 (or the one given), Adam 1e-3,
// softmax cross-entropy, batches pre-built as tensors, every step tidied by optimizer.minimize, the
// loss read back every 10 steps (a sync point), never every step. Reads are asynchronous (the webgpu
// backend has no synchronous read in Node), and the clock stops only after the last step's work is
// done (a GPU backend queues it).
import * as tf from '@tensorflow/tfjs';
import { BATCH, randomBatches, type BenchModel } from './models';
import { benchAdam } from './optimizer';

const BATCHES_IN_MEMORY = 4;
const READ_LOSS_EVERY = 10;

export interface Throughput {
  samplesPerSec: number;
  steps: number;
  seconds: number;
  /** Tensors alive after the timed steps minus before (0: no growth). */
  tensorGrowth: number;
  finalLoss: number;
  /** Multiply-accumulates of one example's forward pass. */
  macsPerExample: number;
}

/**
 * Warm-up steps, then steps until `seconds` have passed (at least `minSteps`). A slow model (a
 * warm-up step longer than half the cap) gets one warm-up step; one whose warm-up step took longer
 * than the whole cap is timed on a single step.
 */
export async function measureThroughput(model: BenchModel, seconds: number, warmupSteps = 2, minSteps = 2, batch = BATCH): Promise<Throughput> {
  const built = model.build();
  const optimizer = benchAdam(built.variables);
  const batches = randomBatches(model.data, BATCHES_IN_MEMORY, batch);
  // Adam updates every variable in a step: reading the smallest one waits for all queued work.
  const smallest = built.variables.reduce((a, b) => (b.size < a.size ? b : a));
  let lastLoss = NaN;
  const step = async (index: number, readLoss: boolean): Promise<void> => {
    const { x, y } = batches[index % BATCHES_IN_MEMORY];
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, built.forward(x)) as tf.Scalar,
      readLoss,
    );
    if (loss) {
      lastLoss = (await loss.data())[0];
      loss.dispose();
      if (!Number.isFinite(lastLoss)) throw new Error(`loss is ${lastLoss}`);
    }
  };
  try {
    let warmupMs = 0;
    for (let i = 0; i < warmupSteps; i++) {
      const start = performance.now();
      await step(i, true);
      warmupMs = performance.now() - start;
      // A step that takes half the cap is warm enough after one: keep the run short.
      if (warmupMs > (seconds * 1000) / 2) break;
    }
    const tensorsBefore = tf.memory().numTensors;
    // A slow configuration (one step > the cap) is timed on few steps rather than on many seconds.
    const slow = warmupMs > seconds * 1000;
    let steps = 0;
    const start = performance.now();
    while (steps < (slow ? 1 : minSteps) || (!slow && performance.now() - start < seconds * 1000)) {
      await step(steps, (steps + 1) % READ_LOSS_EVERY === 0);
      steps++;
    }
    await smallest.data();
    const elapsed = (performance.now() - start) / 1000;
    return {
      samplesPerSec: (steps * batch) / elapsed,
      steps,
      seconds: elapsed,
      tensorGrowth: tf.memory().numTensors - tensorsBefore,
      finalLoss: lastLoss,
      macsPerExample: built.macsPerExample,
    };
  } finally {
    batches.forEach(({ x, y }) => tf.dispose([x, y]));
    optimizer.dispose();
    built.dispose();
  }
}
