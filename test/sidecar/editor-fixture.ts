// A recorded run (quick start, seed 1: wide, imitation and fine-tuning, stopped during the scratch
// baseline) laid out next to an experiment file in a fresh folder, as the sidecar writes it.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricRecord, RunSummary } from '../../server/protocol';

const fixtures = join(__dirname, '..', 'fixtures', 'editor-run');
export const RECORDED_RUN_ID = 'quickstart-20261125-152531';

export function recordedSummary(experimentPath = '/work/quickstart.gowide.json', runsDir = '/work/.gowide-runs'): RunSummary {
  const text = readFileSync(join(fixtures, 'summary.json'), 'utf8');
  const summary = JSON.parse(text) as RunSummary;
  return { ...summary, runDir: join(runsDir, summary.runId), experimentPath };
}

export function recordedMetrics(): MetricRecord[] {
  return readFileSync(join(fixtures, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as MetricRecord);
}

export function recordedExperimentText(): string {
  return readFileSync(join(fixtures, 'experiment.json'), 'utf8');
}

/** A folder with quickstart.gowide.json and .gowide-runs/<run>/ (experiment.json, summary.json, metrics.jsonl). */
export function workspaceWithRecordedRun(): { dir: string; experimentPath: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gowide-editor-'));
  const experimentPath = join(dir, 'quickstart.gowide.json');
  writeFileSync(experimentPath, recordedExperimentText());
  const runsDir = join(dir, '.gowide-runs');
  const runDir = join(runsDir, RECORDED_RUN_ID);
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'experiment.json'), JSON.stringify({ experimentPath, experiment: JSON.parse(recordedExperimentText()) }));
  writeFileSync(join(runDir, 'summary.json'), JSON.stringify(recordedSummary(experimentPath, runsDir)));
  writeFileSync(join(runDir, 'metrics.jsonl'), readFileSync(join(fixtures, 'metrics.jsonl')));
  return { dir, experimentPath };
}
