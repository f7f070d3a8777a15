// Reading run folders back: summaries for listRuns, metric records for getMetrics.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isLaunchedRun } from '../launch/jobs-file';
import { mergedMetrics, mergedSummary } from '../launch/merged-run';
import type { MetricRecord, RunSummary, SweepMembership } from '../protocol';
import { readMetricsFile } from './metrics-log';
import { runPath } from './names';
import { readSummaryFile } from './run-store';
import { readSweepRecord } from './sweep-file';

/** A run's summary; a launched run's (its folder holds jobs.json) merged from its jobs' folders. */
export function readSummary(runDir: string): RunSummary | undefined {
  if (isLaunchedRun(runDir)) {
    try {
      return mergedSummary(runDir);
    } catch {
      // jobs.json broken or being created: the launcher's own summary.json, if any, still tells the run
    }
  }
  return readSummaryFile(runDir);
}

/** Runs in runsDir, newest first; only those of experimentPath when given. A point of a sweep carries
 *  `sweep`, read from the sweep folders in runsDir (each sweep.json once). */
export function listRuns(runsDir: string, experimentPath?: string): RunSummary[] {
  if (!fs.existsSync(runsDir)) return [];
  const wanted = experimentPath ? path.resolve(experimentPath) : undefined;
  const runs: RunSummary[] = [];
  const sweepOf = new Map<string, SweepMembership>();
  for (const entry of fs.readdirSync(runsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = path.join(runsDir, entry.name);
    const summary = readSummary(dir);
    if (!summary) {
      addSweepPoints(sweepOf, entry.name, dir);
      continue;
    }
    if (wanted && path.resolve(summary.experimentPath) !== wanted) continue;
    runs.push(summary);
  }
  for (const run of runs) {
    const sweep = sweepOf.get(run.runId);
    if (sweep) run.sweep = sweep;
  }
  return runs.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
}

/** The runs of the sweep folder dir (if it is one), each with its point's values. */
function addSweepPoints(sweepOf: Map<string, SweepMembership>, sweepId: string, dir: string): void {
  const record = readSweepRecord(dir);
  if (!record) return;
  for (const point of record.points) {
    if (point.runId) sweepOf.set(point.runId, { sweepId, values: point.values, grid: record.grid });
  }
}

export function getMetrics(runsDir: string, runId: string, afterSeq = -1): MetricRecord[] {
  const runDir = runPath(runsDir, runId);
  if (isLaunchedRun(runDir)) return mergedMetrics(runDir, afterSeq);
  return readMetricsFile(path.join(runDir, 'metrics.jsonl'), afterSeq);
}

/** The newest run of experimentPath that did not finish (running when its process died, stopped or
 *  failed): what `gowide run FILE --resume` continues. */
export function latestUnfinishedRun(runsDir: string, experimentPath: string): RunSummary | undefined {
  return listRuns(runsDir, experimentPath).find((r) => r.state !== 'done');
}
