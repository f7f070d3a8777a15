// Reading run folders back: summaries for listRuns, metric records for getMetrics.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isLaunchedRun } from '../launch/jobs-file';
import { mergedMetrics, mergedSummary } from '../launch/merged-run';
import type { MetricRecord, RunSummary } from '../protocol';
import { readMetricsFile } from './metrics-log';
import { runPath } from './names';
import { readSummaryFile } from './run-store';

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

/** Runs in runsDir, newest first; only those of experimentPath when given. */
export function listRuns(runsDir: string, experimentPath?: string): RunSummary[] {
  if (!fs.existsSync(runsDir)) return [];
  const wanted = experimentPath ? path.resolve(experimentPath) : undefined;
  const runs: RunSummary[] = [];
  for (const entry of fs.readdirSync(runsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const summary = readSummary(path.join(runsDir, entry.name));
    if (!summary) continue;
    if (wanted && path.resolve(summary.experimentPath) !== wanted) continue;
    runs.push(summary);
  }
  return runs.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
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
