// listRuns tells each point of a sweep which sweep it belongs to, read from the sweep folders of the
// runs folder it lists (a real runs folder: a sweep made through SweepStore, points made through RunStore).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { RunState, RunSummary } from '../../server/protocol';
import { listRuns } from '../../server/runs/list';
import { RunStore } from '../../server/runs/run-store';
import { SWEEP_FILE, SweepStore } from '../../server/runs/sweep-store';
import { tinyExperiment } from './method-fixtures';

const GRID = { 'widen.factor': [2, 4, 8] };

/** A run folder with its summary.json, as a run's own process leaves it. */
function pointRun(runsDir: string, experimentPath: string, startedAt: string, state: RunState, arms: RunSummary['arms'] = {}): string {
  const store = RunStore.create(runsDir, tinyExperiment({ name: 'mlp' }), experimentPath, new Date(startedAt));
  store.writeSummary({ runId: store.runId, runDir: store.runDir, experiment: 'mlp', experimentPath, state, startedAt, stages: [], arms });
  store.close();
  return store.runId;
}

/** Every file under dir with its contents: what listRuns must leave as it found. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const file = path.join(dir, name);
    if (fs.statSync(file).isFile()) files[name] = fs.readFileSync(file, 'utf8');
  }
  return files;
}

test('listRuns gives each point of a sweep its sweep id, values and grid; other runs stay as they were', () => {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-sweep-list-'));
  const experimentPath = path.join(runsDir, 'mlp.gowide.json');
  const sweep = SweepStore.create(runsDir, 'mlp', experimentPath, GRID, GRID['widen.factor'].map((f) => ({ 'widen.factor': f })), new Date('2026-03-01T10:00:00Z'));
  const done = pointRun(runsDir, experimentPath, '2026-03-01T10:00:01Z', 'done', { win: { accuracy: { mean: 0.86, std: 0, perSeed: [0.86] }, params: 10, seconds: 1 } });
  const running = pointRun(runsDir, experimentPath, '2026-03-01T10:05:00Z', 'running');
  sweep.setRun(0, done);
  sweep.setRun(1, running);
  // The third point has no run yet; a plain run of the same experiment sits beside the points.
  const plain = pointRun(runsDir, experimentPath, '2026-02-28T09:00:00Z', 'done');
  // A folder that is neither a run nor a readable sweep is passed by.
  fs.mkdirSync(path.join(runsDir, 'mlp-sweep-broken'));
  fs.writeFileSync(path.join(runsDir, 'mlp-sweep-broken', SWEEP_FILE), '{"format": "gowide-sweep-1", "points": [');
  const before = snapshot(runsDir);

  const runs = listRuns(runsDir, experimentPath);
  assert.deepEqual(runs.map((r) => r.runId), [running, done, plain], 'the runs, newest first; the sweep folders are not runs');
  const byId = new Map(runs.map((r) => [r.runId, r]));
  assert.deepEqual(byId.get(done)!.sweep, { sweepId: sweep.sweepId, values: { 'widen.factor': 2 }, grid: GRID });
  assert.deepEqual(byId.get(running)!.sweep, { sweepId: sweep.sweepId, values: { 'widen.factor': 4 }, grid: GRID });
  assert.equal('sweep' in byId.get(plain)!, false, 'a run outside any sweep has no sweep field');
  assert.deepEqual(snapshot(runsDir), before, 'listing writes nothing');
  // Another experiment's listing in the same folder sees none of these runs.
  assert.deepEqual(listRuns(runsDir, path.join(runsDir, 'other.gowide.json')), []);
});

test('two sweeps in one runs folder: each point names its own sweep', () => {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-sweep-list-'));
  const experimentPath = path.join(runsDir, 'mlp.gowide.json');
  const grid = { 'model.width': [8, 16], 'widen.factor': [2] };
  const points = [{ 'model.width': 8, 'widen.factor': 2 }, { 'model.width': 16, 'widen.factor': 2 }];
  const first = SweepStore.create(runsDir, 'mlp', experimentPath, grid, points, new Date('2026-03-01T10:00:00Z'));
  const second = SweepStore.create(runsDir, 'mlp', experimentPath, grid, points, new Date('2026-03-01T10:00:00Z'));
  assert.notEqual(first.sweepId, second.sweepId);
  const a = pointRun(runsDir, experimentPath, '2026-03-01T10:00:01Z', 'done');
  const b = pointRun(runsDir, experimentPath, '2026-03-01T10:00:02Z', 'stopped');
  first.setRun(1, a);
  second.setRun(0, b);
  const sweeps = Object.fromEntries(listRuns(runsDir).map((r) => [r.runId, r.sweep]));
  assert.deepEqual(sweeps[a], { sweepId: first.sweepId, values: points[1], grid });
  assert.deepEqual(sweeps[b], { sweepId: second.sweepId, values: points[0], grid });
});
