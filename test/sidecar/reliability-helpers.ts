// Shared pieces of the reliability tests (issue 7): a small experiment that trains for a few seconds
// through the real CLI, and a check that a run folder is intact (every checkpoint verifies, metrics
// are whole lines with contiguous seq, the JSON files parse, no temporary files are left).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCheckpoint } from '../../server/runs/checkpoint';
import type { MetricRecord } from '../../server/protocol';

export const root = path.resolve(__dirname, '..', '..');
export const cli = path.join(root, 'bin', 'gowide.js');

export function ensureBuilt(): void {
  if (!fs.existsSync(path.join(root, 'dist', 'cli.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
}

/** Built-in shapes, a 4-block MLP; imitation takes about a second per block, so a run lasts seconds. */
export function slowishExperiment(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    data: { format: 'shapes', trainLimit: 1500, testLimit: 200, validationSplit: 0.2 },
    model: { family: 'mlp', depth: 4, width: 16 },
    widen: { factor: 2 },
    wide: { epochs: 4, batchSize: 64, learningRate: 0.003 },
    imitate: { epochsPerLayer: 24, batchSize: 32 },
    finetune: { epochs: 1, batchSize: 64 },
    baselines: ['scratch'],
    minWideAccuracy: 0,
    seeds: [1],
    ...overrides,
  };
}

/** The smallest useful run: 200 shapes images, a 2-block MLP, one epoch per stage, no baselines. */
export function quickExperiment(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return slowishExperiment(name, {
    data: { format: 'shapes', trainLimit: 200, testLimit: 50, validationSplit: 0.2 },
    model: { family: 'mlp', depth: 2, width: 8 },
    wide: { epochs: 1, batchSize: 64 },
    imitate: { epochsPerLayer: 1, batchSize: 64 },
    finetune: { epochs: 1, batchSize: 64 },
    baselines: [],
    ...overrides,
  });
}

export function writeExperiment(dir: string, experiment: Record<string, unknown>): string {
  const file = path.join(dir, `${String(experiment.name)}.gowide.json`);
  fs.writeFileSync(file, JSON.stringify(experiment, null, 2));
  return file;
}

export interface FolderCheck {
  metrics: MetricRecord[];
  checkpoints: string[];
}

/** Asserts that a run folder is intact and returns its metrics and verified checkpoints. */
export function assertRunFolderIntact(runDir: string): FolderCheck {
  const leftovers: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.tmp')) leftovers.push(full);
    }
  };
  walk(runDir);
  assert.deepEqual(leftovers, [], 'no temporary files are left in the run folder');
  for (const name of ['experiment.json', 'summary.json', 'progress.json']) {
    const file = path.join(runDir, name);
    if (name !== 'progress.json' || fs.existsSync(file)) assert.doesNotThrow(() => JSON.parse(fs.readFileSync(file, 'utf8')), `${name} is whole JSON`);
  }
  const text = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'metrics.jsonl ends with a whole line');
  const metrics = text
    .split('\n')
    .filter((line) => line !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as MetricRecord;
      } catch {
        assert.fail(`metrics.jsonl line ${i + 1} is not JSON: ${line.slice(0, 80)}`);
      }
    });
  assert.deepEqual(
    metrics.map((m) => m.seq),
    metrics.map((_, i) => i),
    'metric seq is contiguous from 0',
  );
  const folder = path.join(runDir, 'checkpoints');
  const checkpoints = fs.existsSync(folder) ? fs.readdirSync(folder).filter((f) => f.endsWith('.json') && !f.startsWith('.')).map((f) => f.slice(0, -5)) : [];
  for (const name of checkpoints) assert.doesNotThrow(() => readCheckpoint(folder, name), `checkpoint ${name} verifies`);
  const journal = fs.existsSync(path.join(runDir, 'progress.json'))
    ? (JSON.parse(fs.readFileSync(path.join(runDir, 'progress.json'), 'utf8')) as { entries: { kind: string; checkpoint?: string; sha256?: string; metricsSeq: number }[] })
    : { entries: [] };
  for (const entry of journal.entries) {
    assert.ok(entry.metricsSeq <= metrics.length, `a journal entry counts ${entry.metricsSeq} metric records; the file has ${metrics.length}`);
    if (entry.kind !== 'commit') continue;
    const { index } = readCheckpoint(folder, entry.checkpoint!);
    assert.equal(index.sha256, entry.sha256, `committed checkpoint ${entry.checkpoint} is the one on disk`);
  }
  return { metrics, checkpoints };
}

export const lastJsonLine = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, any>;
