// The three stages driven over real JSON-RPC: the built sidecar process trains a tiny experiment on
// real Fashion-MNIST images (the repository's sample), streams metrics, answers listRuns/getMetrics and
// honours stop.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetMetricsRequest,
  ListRunsRequest,
  MetricsNotification,
  RunStateNotification,
  StartStageRequest,
  StopRequest,
  ValidateExperimentRequest,
  type MetricRecord,
  type RunSummary,
} from '../../server/protocol';
import { FASHION_MNIST_SAMPLE } from '../unit/fashion-data';
import { startBuiltSidecar, type SidecarUnderTest } from './sidecar-process';

function tinyExperiment(name: string, epochsScale = 1): object {
  return {
    name,
    data: { format: 'fashion-mnist', path: FASHION_MNIST_SAMPLE, trainLimit: 600, testLimit: 200, validationSplit: 0.2 },
    model: { family: 'mlp', depth: 3, width: 8 },
    widen: { factor: 2 },
    wide: { epochs: 2 * epochsScale, batchSize: 64, learningRate: 0.003 },
    imitate: { epochsPerLayer: 1 * epochsScale, batchSize: 64, learningRate: 0.003 },
    finetune: { epochs: 1 * epochsScale, batchSize: 64, learningRate: 0.003 },
    baselines: ['scratch', 'kd'],
    seeds: [1],
    minWideAccuracy: 0.2,
  };
}

describe('training over JSON-RPC', () => {
  let sidecar: SidecarUnderTest;
  let dir: string;
  const metrics: MetricRecord[] = [];
  const states: RunSummary[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gowide-rpc-train-'));
    sidecar = startBuiltSidecar();
    sidecar.connection.onNotification(MetricsNotification, (p) => {
      metrics.push(...p.records);
    });
    sidecar.connection.onNotification(RunStateNotification, (p) => {
      states.push(p.run);
    });
    await sidecar.initialize();
  });

  after(async () => {
    await sidecar.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a broken experiment file is reported with the field and a fix', async () => {
    const path = join(dir, 'broken.gowide.json');
    writeFileSync(path, JSON.stringify({ ...tinyExperiment('broken'), widen: { factor: 0.5 } }));
    const result = await sidecar.connection.sendRequest(ValidateExperimentRequest, { path });
    assert.equal(result.ok, false);
    const problem = result.problems.find((p) => p.field === 'widen.factor');
    assert.ok(problem, JSON.stringify(result.problems));
    assert.match(problem.message + (problem.fix ?? ''), /1/);
  });

  test('all stages run, stream per-step metrics and end with the four arms', async () => {
    const path = join(dir, 'tiny.gowide.json');
    writeFileSync(path, JSON.stringify(tinyExperiment('tiny')));
    const started = await sidecar.connection.sendRequest(StartStageRequest, {
      experimentPath: path,
      stage: 'all',
      runsDir: join(dir, 'runs'),
      wait: true,
    });
    assert.ok(started.summary, 'a waited run returns its summary');
    assert.equal(started.summary.state, 'done', started.summary.error);
    for (const arm of ['wide', 'scratch', 'kd', 'win'] as const) {
      const result = started.summary.arms[arm];
      assert.ok(result, `arm ${arm} is reported`);
      assert.ok(result.accuracy.mean > 0.1, `${arm} beats chance: ${result.accuracy.mean}`);
    }

    const streamed = metrics.filter((m) => m.runId === started.runId);
    const imitation = streamed.filter((m) => m.phase === 'imitate' && m.block !== undefined);
    assert.deepEqual([...new Set(imitation.map((m) => m.block))].sort(), [0, 1, 2], 'every block streamed imitation loss');
    assert.ok(imitation.every((m) => Number.isFinite(m.imitationLoss)));
    for (const phase of ['wide', 'finetune', 'scratch', 'kd']) {
      assert.ok(streamed.some((m) => m.phase === phase), `phase ${phase} streamed metrics`);
    }

    const stored = await sidecar.connection.sendRequest(GetMetricsRequest, { runId: started.runId, runsDir: join(dir, 'runs') });
    assert.deepEqual(
      stored.map((m) => m.seq),
      stored.map((_, i) => i),
      'stored metrics have contiguous sequence numbers',
    );
    assert.deepEqual(
      streamed.map((m) => m.seq),
      stored.map((m) => m.seq),
      'every stored record was streamed, once, in order',
    );

    const runs = await sidecar.connection.sendRequest(ListRunsRequest, { experimentPath: path, runsDir: join(dir, 'runs') });
    assert.ok(runs.some((r) => r.runId === started.runId && r.state === 'done'));
    assert.ok(states.some((s) => s.runId === started.runId && s.state === 'running'), 'run state changes were notified');
  });

  test('stop ends a running run within a second and keeps what it wrote', async () => {
    const path = join(dir, 'long.gowide.json');
    writeFileSync(path, JSON.stringify(tinyExperiment('long', 50)));
    const runsDir = join(dir, 'runs');
    const { runId } = await sidecar.connection.sendRequest(StartStageRequest, { experimentPath: path, stage: 'all', runsDir });
    // Wait until training produced a few records, then stop.
    const deadline = Date.now() + 60_000;
    while (!metrics.some((m) => m.runId === runId && m.step > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stopAsked = Date.now();
    const { stopped } = await sidecar.connection.sendRequest(StopRequest, { runId });
    assert.equal(stopped, true);
    while (!states.some((s) => s.runId === runId && s.state === 'stopped') && Date.now() - stopAsked < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const stopSeconds = (Date.now() - stopAsked) / 1000;
    assert.ok(states.some((s) => s.runId === runId && s.state === 'stopped'), 'the run reports state stopped');
    assert.ok(stopSeconds < 1, `stopped in ${stopSeconds}s`);
    const stored = await sidecar.connection.sendRequest(GetMetricsRequest, { runId, runsDir });
    assert.ok(stored.length > 0, 'metrics written before the stop are kept');
  });
});
