// A real sweep for the views that draw one: factors 4 and 2 (in that order) of the smallest useful
// experiment, trained on wasm through the training service.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import type { StartSweepResult } from '../../server/protocol';
import { createTrainingService } from '../../server/training/local-service';
import { quickExperiment, writeExperiment } from '../sidecar/reliability-helpers';

export async function trainTinySweep(): Promise<StartSweepResult> {
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'gowide-view-sweep-'));
  try {
    const file = writeExperiment(dir, quickExperiment('plotted', { baselines: ['scratch'], sweep: { 'widen.factor': [4, 2] } }));
    const events = { onProgress: () => undefined, onMetrics: () => undefined, onRunState: () => undefined, onLog: () => undefined };
    return await createTrainingService(events).startSweep({ experimentPath: file, wait: true, backend: 'wasm' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The rows #sweep-table should show: factor, wide, scratch and win accuracy, state; in factor order. */
export function expectedSweepRows(sweep: StartSweepResult): string[][] {
  const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
  const point = (factor: number) => sweep.points.find((p) => p.values['widen.factor'] === factor)!.summary!;
  return [2, 4].map((f) => [String(f), percent(point(f).arms.wide!.accuracy.mean), percent(point(f).arms.scratch!.accuracy.mean), percent(point(f).arms.win!.accuracy.mean), 'done']);
}

export const sweepTableRows = (rows: (string | null)[][]) => rows.map((r) => [r[0], r[1], r[2], r[3], r.at(-1)]);
