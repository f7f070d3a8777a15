// Whole-run progress: steps done over steps planned, with an ETA from the pace so far.
import type { PhaseName } from '../protocol';

export class ProgressTracker {
  private readonly doneByKey = new Map<string, number>();
  private done = 0;
  private readonly started = Date.now();

  constructor(private readonly totalSteps: number) {}

  /** Records that `done` steps of one phase (and block) of one seed are finished. */
  update(seed: number, phase: PhaseName, block: number | undefined, done: number): void {
    const key = `${seed}/${phase}/${block ?? ''}`;
    const previous = this.doneByKey.get(key) ?? 0;
    if (done > previous) {
      this.done += done - previous;
      this.doneByKey.set(key, done);
    }
  }

  get fraction(): number {
    return this.totalSteps > 0 ? Math.min(1, this.done / this.totalSteps) : 0;
  }

  /** Seconds left at the pace so far; undefined until some steps are done. */
  get etaSeconds(): number | undefined {
    if (this.done === 0) return undefined;
    const elapsed = (Date.now() - this.started) / 1000;
    return Math.max(0, (elapsed / this.done) * (this.totalSteps - this.done));
  }
}

/** Calls `flush` at most every `intervalMs` (and on demand), so streaming stays cheap. */
export class Throttle {
  private last = 0;
  constructor(private readonly intervalMs: number) {}
  due(): boolean {
    const now = Date.now();
    if (now - this.last < this.intervalMs) return false;
    this.last = now;
    return true;
  }
}
