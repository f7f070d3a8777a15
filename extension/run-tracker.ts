// Follows runs from the sidecar's notifications (the run feed hands them over): the newest summary and
// progress per run, and promises that settle when a run ends. No vscode import, so it is unit-tested in plain Node.
import type { ProgressParams, RunSummary } from '../server/protocol';
import { isActive } from '../server/editor/run-figures';

type Listener = (runId: string) => void;

export class RunTracker {
  private readonly summaries = new Map<string, RunSummary>();
  private readonly progress = new Map<string, ProgressParams>();
  private readonly endWaiters = new Map<string, ((run: RunSummary) => void)[]>();
  private readonly progressWaiters = new Map<string, ((p: ProgressParams) => void)[]>();
  private readonly listeners = new Set<Listener>();

  onDidChange(listener: Listener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  summary(runId: string): RunSummary | undefined {
    return this.summaries.get(runId);
  }

  progressOf(runId: string): ProgressParams | undefined {
    return this.progress.get(runId);
  }

  /** Every run this window heard of, newest first (the Loss view's picker). */
  known(): RunSummary[] {
    return [...this.summaries.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** Runs this window saw in progress (for the status bar). */
  active(): RunSummary[] {
    return [...this.summaries.values()].filter((r) => isActive(r.state));
  }

  updateRun(run: RunSummary): void {
    this.summaries.set(run.runId, run);
    if (!isActive(run.state)) {
      this.progress.delete(run.runId);
      for (const resolve of this.endWaiters.get(run.runId) ?? []) resolve(run);
      this.endWaiters.delete(run.runId);
    }
    this.fire(run.runId);
  }

  updateProgress(p: ProgressParams): void {
    this.progress.set(p.runId, p);
    for (const listener of this.progressWaiters.get(p.runId) ?? []) listener(p);
    this.fire(p.runId);
  }

  /** Calls `listener` with each progress report of the run until the returned handle is disposed. */
  onProgress(runId: string, listener: (p: ProgressParams) => void): { dispose(): void } {
    const list = this.progressWaiters.get(runId) ?? [];
    list.push(listener);
    this.progressWaiters.set(runId, list);
    return { dispose: () => this.progressWaiters.set(runId, (this.progressWaiters.get(runId) ?? []).filter((l) => l !== listener)) };
  }

  /** Settles with the final summary once the run is no longer queued or running. */
  whenEnded(runId: string): Promise<RunSummary> {
    const known = this.summaries.get(runId);
    if (known && !isActive(known.state)) return Promise.resolve(known);
    return new Promise((resolve) => {
      const list = this.endWaiters.get(runId) ?? [];
      list.push(resolve);
      this.endWaiters.set(runId, list);
    });
  }

  private fire(runId: string): void {
    for (const listener of this.listeners) listener(runId);
  }
}
