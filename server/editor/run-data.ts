// The latest run of an experiment and its metric records, as the editor features need them. Reads
// the run folders next to the experiment (no engine needed) and keeps the records of runs in memory,
// topped up from the metric stream and the metrics file.
import * as path from 'node:path';
import type { MetricRecord, RunSummary } from '../protocol';
import { getMetrics, listRuns } from '../runs/list';
import { defaultRunsDir, runsFolderOf } from '../runs/names';

export interface ExperimentRuns {
  /** Newest first. */
  runs: RunSummary[];
  latest?: RunSummary;
  /** Records of the latest run, in seq order. */
  records: MetricRecord[];
}

const MAX_CACHED_RUNS = 16;

export class RunData {
  private readonly records = new Map<string, MetricRecord[]>();
  /** Run id -> experiment file, for runs seen in events or listings. */
  private readonly experimentOf = new Map<string, string>();

  forExperiment(experimentPath: string): ExperimentRuns {
    let runs: RunSummary[] = [];
    try {
      runs = listRuns(defaultRunsDir(experimentPath), experimentPath);
    } catch {
      // An unreadable runs folder reads as no runs; the explorer reports run-store problems.
    }
    for (const run of runs) this.experimentOf.set(run.runId, path.resolve(run.experimentPath));
    const latest = runs[0];
    return { runs, latest, records: latest ? this.recordsOf(latest) : [] };
  }

  /** The experiment file a run belongs to, when known. */
  experimentOfRun(runId: string): string | undefined {
    return this.experimentOf.get(runId);
  }

  noteRun(run: RunSummary): void {
    this.experimentOf.set(run.runId, path.resolve(run.experimentPath));
  }

  /** Records streamed by the training service; kept only for runs already cached. */
  addRecords(runId: string, records: readonly MetricRecord[]): void {
    const cached = this.records.get(runId);
    if (!cached) return;
    let lastSeq = cached.length > 0 ? cached[cached.length - 1].seq : -1;
    for (const r of records) {
      if (r.seq > lastSeq) {
        cached.push(r);
        lastSeq = r.seq;
      }
    }
  }

  private recordsOf(run: RunSummary): MetricRecord[] {
    let cached = this.records.get(run.runId);
    if (!cached) {
      if (this.records.size >= MAX_CACHED_RUNS) this.records.delete(this.records.keys().next().value!);
      cached = [];
      this.records.set(run.runId, cached);
    }
    const lastSeq = cached.length > 0 ? cached[cached.length - 1].seq : -1;
    try {
      this.addRecords(run.runId, getMetrics(runsFolderOf(run.runDir), run.runId, lastSeq));
    } catch {
      // A run folder without metrics yet.
    }
    return cached;
  }
}
