// Training losses stay on the device and come back in batches: every READ_LOSS_EVERY steps the
// pending loss scalars are stacked into one tensor and read with one data() call. The read of a window
// is awaited only when the next window closes, so a GPU always has the next steps queued while the CPU
// waits for the previous ones (a backend computing eagerly, wasm or cpu, answers at once). A
// non-finite loss is therefore noticed at most 2 x READ_LOSS_EVERY - 1 steps after it happened, and
// named with its exact step.
import * as tf from '@tensorflow/tfjs';
import { DivergedError, type PhasePlace } from '../errors';

/** Steps between two loss read-backs (and between two train-loss records of a phase). */
export const READ_LOSS_EVERY = 10;

export interface StepLoss {
  /** 0-based step of the phase. */
  step: number;
  epoch: number;
  learningRate: number;
  /** Whether the loss goes to onLoss once read (the others are only checked for being finite). */
  report: boolean;
}

interface Window {
  steps: StepLoss[];
  stacked: tf.Tensor;
  values: Promise<ArrayLike<number>>;
}

export class LossReadback {
  private pending: Array<{ at: StepLoss; loss: tf.Scalar }> = [];
  private inFlight: Window | undefined;

  constructor(
    private readonly place: PhasePlace,
    private readonly onLoss: (at: StepLoss, loss: number) => void,
  ) {}

  /** Keeps a step's loss (owned from now on) until the window it belongs to is read. */
  add(at: StepLoss, loss: tf.Scalar): void {
    this.pending.push({ at, loss });
  }

  get pendingSteps(): number {
    return this.pending.length;
  }

  /** Closes the pending window (its read starts now), then waits for the window read before it and
   *  hands its losses on; throws DivergedError at the first non-finite one. */
  async flush(): Promise<void> {
    const previous = this.inFlight;
    this.inFlight = this.startRead();
    if (previous) await this.settle(previous);
  }

  /** Every loss added so far read and handed on. */
  async drain(): Promise<void> {
    await this.flush();
    await this.flush();
  }

  /** Frees what is still pending (after a stop or an error); waits for a read already under way. */
  async dispose(): Promise<void> {
    tf.dispose(this.pending.map((p) => p.loss));
    this.pending = [];
    const window = this.inFlight;
    this.inFlight = undefined;
    if (window) {
      await window.values.catch(() => undefined);
      window.stacked.dispose();
    }
  }

  private startRead(): Window | undefined {
    if (this.pending.length === 0) return undefined;
    const losses = this.pending.map((p) => p.loss);
    const stacked = tf.stack(losses);
    tf.dispose(losses);
    const steps = this.pending.map((p) => p.at);
    this.pending = [];
    return { steps, stacked, values: stacked.data() };
  }

  private async settle(window: Window): Promise<void> {
    let values: ArrayLike<number>;
    try {
      values = await window.values;
    } finally {
      window.stacked.dispose();
    }
    window.steps.forEach((at, i) => {
      const loss = values[i];
      if (!Number.isFinite(loss)) throw new DivergedError(this.place, at.step, loss);
      if (at.report) this.onLoss(at, loss);
    });
  }
}
