// One optimisation phase: a fixed number of steps over a batch stream, every step in tf.tidy, no
// step waiting for the device: the losses stay there and are read back in batches (loss-readback.ts),
// the stop signal is checked every step.
import * as tf from '@tensorflow/tfjs';
import type { Batch, BatchStream } from './batches';
import { StoppedError, type PhasePlace } from '../errors';
import { LossReadback, READ_LOSS_EVERY } from './loss-readback';
import type { GroupOptimizer } from './optimizer';

export interface PhaseReport {
  /** 0-based step whose loss was read. */
  step: number;
  epoch: number;
  loss: number;
  learningRate: number;
}

export interface PhaseOptions {
  place: PhasePlace;
  stream: BatchStream;
  steps: number;
  optimizer: GroupOptimizer;
  /** Tensors the loss needs that no gradient flows through (teacher outputs, targets), computed
   *  outside the gradient tape. */
  prepare?: (batch: Batch) => tf.Tensor[];
  /** The loss of one batch; runs inside tf.variableGrads. */
  loss: (batch: Batch, prepared: tf.Tensor[]) => tf.Scalar;
  signal?: AbortSignal;
  /** Read the losses back every this many steps (default READ_LOSS_EVERY); onLoss gets the loss of
   *  every readEvery-th step and of the last one. */
  readEvery?: number;
  onLoss?: (r: PhaseReport) => void;
  /** Called every step with the count of steps done (cheap: progress bars). */
  onStep?: (done: number) => void;
  /** Called after the last step of every epoch and after the phase's last step, with the 0-based step
   *  and the epochs done so far (fractional after a partial last epoch). */
  onEpochEnd?: (step: number, epochs: number) => Promise<void>;
}

export interface PhaseResult {
  steps: number;
  firstLoss: number;
  lastLoss: number;
  seconds: number;
}

/** Lets timers and I/O (a stop request) run when the loop has held the thread this long. */
const YIELD_AFTER_MS = 40;

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Steps for a (possibly fractional) number of epochs: none for 0 epochs (a skipped phase; one
 *  Adam step moves every weight by about the learning rate, which cost a warm-started MLP 2-3 points),
 *  otherwise at least one. */
export function stepsFor(epochs: number, stepsPerEpoch: number): number {
  return epochs > 0 ? Math.max(1, Math.round(epochs * stepsPerEpoch)) : 0;
}

export async function trainPhase(o: PhaseOptions): Promise<PhaseResult> {
  const started = Date.now();
  const readEvery = Math.max(1, o.readEvery ?? READ_LOSS_EVERY);
  let lastYield = Date.now();
  let firstLoss = NaN;
  let lastLoss = NaN;
  const losses = new LossReadback(o.place, ({ step, epoch, learningRate }, loss) => {
    if (Number.isNaN(firstLoss)) firstLoss = loss;
    lastLoss = loss;
    o.onLoss?.({ step, epoch, loss, learningRate });
  });
  try {
    for (let step = 0; step < o.steps; step++) {
      if (o.signal?.aborted) throw new StoppedError();
      const learningRate = o.optimizer.learningRate;
      const lossTensor = tf.tidy(() => {
        const batch = o.stream.next();
        const prepared = o.prepare ? o.prepare(batch) : [];
        const { value, grads } = tf.variableGrads(() => o.loss(batch, prepared), o.optimizer.variables);
        o.optimizer.apply(grads);
        return value;
      });
      const last = step === o.steps - 1;
      losses.add({ step, epoch: o.stream.epoch, learningRate, report: step % readEvery === 0 || last }, lossTensor);
      if (losses.pendingSteps >= readEvery) await losses.flush();
      o.onStep?.(step + 1);
      const epochEnds = (step + 1) % o.stream.stepsPerEpoch === 0 || last;
      // Nothing computed from weights that may have diverged (validation, a checkpoint) before the losses are known.
      if (last || (o.onEpochEnd && epochEnds)) await losses.drain();
      if (o.onEpochEnd && epochEnds) await o.onEpochEnd(step, (step + 1) / o.stream.stepsPerEpoch);
      if (Date.now() - lastYield > YIELD_AFTER_MS) {
        await yieldToEventLoop();
        lastYield = Date.now();
      }
    }
  } finally {
    await losses.dispose();
  }
  return { steps: o.steps, firstLoss, lastLoss, seconds: (Date.now() - started) / 1000 };
}
