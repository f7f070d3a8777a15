// Shared checks for the continue/resume tests: metrics of a run folder have seq 0..n-1 and no
// record twice (same seed, phase, block, step and split).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { readMetricsFile } from '../../server/runs/metrics-log';
import type { MetricRecord } from '../../server/protocol';

export function assertMetricsClean(runDir: string): MetricRecord[] {
  const metrics = readMetricsFile(path.join(runDir, 'metrics.jsonl'));
  assert.deepEqual(
    metrics.map((m) => m.seq),
    metrics.map((_, i) => i),
    'metric seq is contiguous from 0',
  );
  const keys = metrics.map((m) => `${m.seed}/${m.phase}/${m.block ?? '-'}/${m.step}/${m.split ?? '-'}`);
  const duplicates = keys.filter((k, i) => keys.indexOf(k) !== i);
  assert.deepEqual(duplicates, [], 'no (seed, phase, block, step, split) twice');
  return metrics;
}
