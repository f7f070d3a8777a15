// The three stages and baselines end to end into a run folder; stop; NaN; bad experiment files.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadLayersModel } from '../../server/models';
import { runExperiment } from '../../server/method/run-experiment';
import { runCommand } from '../../server/cli/run-command';
import { listCheckpoints, readCheckpoint } from '../../server/runs/checkpoint';
import { readMetricsFile } from '../../server/runs/metrics-log';
import type { MetricRecord, ProgressParams } from '../../server/protocol';
import { syntheticDataset, tinyExperiment, useWasm } from './method-fixtures';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-method-'));
const data = syntheticDataset();

test('three stages and both baselines write a complete run folder', async () => {
  await useWasm();
  const runsDir = tempDir();
  const streamed: MetricRecord[] = [];
  const progress: ProgressParams[] = [];
  const { summary } = await runExperiment(tinyExperiment({ seeds: [1, 2] }), {
    runsDir,
    experimentPath: path.join(runsDir, 'tiny.gowide.json'),
    loadData: async () => data,
    events: { onMetrics: (_, records) => streamed.push(...records), onProgress: (p) => progress.push(p) },
  });
  assert.equal(summary.state, 'done', summary.error);
  for (const arm of ['wide', 'scratch', 'kd', 'win'] as const) {
    assert.equal(summary.arms[arm]?.accuracy.perSeed.length, 2, arm);
  }
  assert.ok(summary.arms.wide!.accuracy.mean > 0.5, 'the wide net learned the task');
  assert.ok(summary.arms.wide!.params > summary.arms.win!.params);

  const files = fs.readdirSync(summary.runDir).sort();
  assert.deepEqual(files, ['checkpoints', 'experiment.json', 'metrics.jsonl', 'model', 'progress.json', 'stages', 'summary.json']);
  const onDisk = JSON.parse(fs.readFileSync(path.join(summary.runDir, 'summary.json'), 'utf8'));
  assert.equal(onDisk.state, 'done');

  const metrics = readMetricsFile(path.join(summary.runDir, 'metrics.jsonl'));
  assert.deepEqual(metrics.map((m) => m.seq), metrics.map((_, i) => i), 'seq contiguous from 0');
  assert.deepEqual(streamed.map((m) => m.seq), metrics.map((m) => m.seq), 'every record streamed once, in order');
  assert.ok(metrics.some((m) => m.phase === 'imitate' && m.block === 2 && m.imitationLoss !== undefined));
  assert.equal(metrics.filter((m) => m.split === 'test').length, 8, 'test split used once per arm and seed');
  assert.ok(progress.length > 0 && progress.at(-1)!.fraction > 0.95);

  const checkpoints = listCheckpoints(path.join(summary.runDir, 'checkpoints'));
  for (const seed of [1, 2]) {
    for (const name of ['wide', 'imitate-block000', 'imitate-block001', 'imitate-block002', 'imitate', 'finetune', 'scratch', 'kd']) {
      assert.ok(checkpoints.includes(`seed${seed}-${name}`), `seed${seed}-${name}`);
    }
  }
  readCheckpoint(path.join(summary.runDir, 'checkpoints'), 'seed1-imitate-block001');

  const d = summary.diagnostics!;
  assert.equal(d.imitation.length, 6);
  assert.equal(d.warmStartAccuracy.length, 2);
  const model = await loadLayersModel(d.model!.path);
  const x = tf.tensor2d(data.test.x, [data.test.count, data.exampleShape[0]]);
  const predictions = tf.tidy(() => (model.predict(x) as tf.Tensor).argMax(-1));
  const labels = Array.from(await predictions.data());
  const correct = labels.filter((label, i) => label === data.test.y[i]).length;
  assert.equal(correct / data.test.count, d.model!.testAccuracy, 'reloaded model gives the same test accuracy');
  assert.equal(d.model!.testAccuracy, summary.arms.win!.accuracy.perSeed[0]);
  tf.dispose([x, predictions]);
  model.dispose();
});

test('a stop request ends the run within a second', async () => {
  await useWasm();
  const runsDir = tempDir();
  const controller = new AbortController();
  let abortedAt = 0;
  const running = runExperiment(tinyExperiment({ wide: { ...tinyExperiment().wide, epochs: 200 } }), {
    runsDir,
    experimentPath: path.join(runsDir, 'tiny.gowide.json'),
    loadData: async () => data,
    signal: controller.signal,
  });
  setTimeout(() => {
    abortedAt = Date.now();
    controller.abort();
  }, 700);
  const { summary } = await running;
  const took = Date.now() - abortedAt;
  assert.equal(summary.state, 'stopped');
  assert.ok(took < 1000, `stopped after ${took} ms`);
  assert.equal(JSON.parse(fs.readFileSync(path.join(summary.runDir, 'summary.json'), 'utf8')).state, 'stopped');
});

test('a diverging loss stops the phase naming block and step, and keeps the last good checkpoint', async () => {
  await useWasm();
  const runsDir = tempDir();
  const experiment = tinyExperiment();
  experiment.imitate = { ...experiment.imitate, optimizer: 'sgd', learningRate: 1e12, normalizeTargets: false };
  const { summary } = await runExperiment(experiment, {
    runsDir,
    experimentPath: path.join(runsDir, 'tiny.gowide.json'),
    loadData: async () => data,
  });
  assert.equal(summary.state, 'failed');
  assert.match(summary.error!, /phase "imitate", block \d+ \(seed 1\) at step \d+/);
  assert.match(summary.error!, /learningRate|normalizeTargets/);
  const imitate = summary.stages.find((s) => s.stage === 'imitate')!;
  assert.equal(imitate.state, 'failed');
  const folder = path.join(summary.runDir, 'checkpoints');
  const checkpoints = listCheckpoints(folder);
  assert.ok(checkpoints.includes('seed1-wide'));
  for (const name of checkpoints) {
    const { tensors } = readCheckpoint(folder, name);
    for (const values of tensors.values()) assert.ok(values.every(Number.isFinite), `${name} holds only finite values`);
  }
});

test('a bad experiment file stops with file, field and fix, and leaves the runs folder alone', async () => {
  const dir = tempDir();
  const runsDir = path.join(dir, 'runs');
  fs.mkdirSync(path.join(runsDir, 'earlier-run'), { recursive: true });
  fs.writeFileSync(path.join(runsDir, 'earlier-run', 'metrics.jsonl'), '{"seq":0}\n');
  const before = fs.readdirSync(runsDir, { recursive: true }).sort();
  const file = path.join(dir, 'broken.gowide.json');
  const cases: [string, RegExp][] = [
    ['{ "name": "x", ', /broken\.gowide\.json:\d+:\d+/],
    [JSON.stringify({ name: 'x', data: { format: 'shapes' }, model: { family: 'mlpp', depth: 2, width: 4 } }), /model\.family/],
    [JSON.stringify({ name: 'x', data: { format: 'shapes' }, model: { family: 'mlp', depth: 2, width: 4 }, widen: { factor: 0.5 } }), /widen\.factor/],
    [JSON.stringify({ name: 'x', data: { format: 'idx', path: 'missing-folder' }, model: { family: 'mlp', depth: 2, width: 4 } }), /missing-folder/],
  ];
  const write = process.stderr.write.bind(process.stderr);
  for (const [text, expected] of cases) {
    fs.writeFileSync(file, text);
    let stderr = '';
    process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
    let code: number;
    try {
      code = await runCommand([file, '--runs-dir', runsDir, '--backend', 'wasm', '--quiet']);
    } finally {
      process.stderr.write = write;
    }
    assert.equal(code, 1, text);
    assert.match(stderr, expected, stderr);
    assert.deepEqual(fs.readdirSync(runsDir, { recursive: true }).sort(), before, 'runs folder untouched');
  }
});

test('stage imitation: the run lists one block per group with its first block, and checkpoints each group under its last block', async () => {
  await useWasm();
  const runsDir = tempDir();
  // An MLP is one stage: blocks 0-2 imitate together.
  const experiment = tinyExperiment({ baselines: [], imitate: { ...tinyExperiment().imitate, groups: 'stage' } });
  const { summary } = await runExperiment(experiment, { runsDir, experimentPath: path.join(runsDir, 'tiny.gowide.json'), loadData: async () => data });
  assert.equal(summary.state, 'done', summary.error);
  const imitate = summary.stages.find((s) => s.stage === 'imitate')!;
  assert.deepEqual(imitate.blocks?.map((b) => [b.from, b.index, b.state]), [[0, 2, 'done']]);
  assert.deepEqual(summary.diagnostics!.imitation.map((b) => [b.firstBlock, b.block]), [[0, 2]]);
  const checkpoints = listCheckpoints(path.join(summary.runDir, 'checkpoints')).filter((c) => c.includes('imitate-block'));
  assert.deepEqual(checkpoints, ['seed1-imitate-block002']);
  const metrics = readMetricsFile(path.join(summary.runDir, 'metrics.jsonl'));
  assert.deepEqual([...new Set(metrics.filter((m) => m.phase === 'imitate' && m.block !== undefined).map((m) => m.block))], [2]);
});
