// Epoch budgets as step counts: a phase given 0 epochs takes no step at all.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildNet, buildProjection } from '../../server/models';
import { buildThinNet, buildWideNet, type StageContext, type StageReporter } from '../../server/method/context';
import { allVariables, trainClassifier } from '../../server/method/training/classifier-phase';
import { imitate } from '../../server/method/stages/imitate';
import { plannedSteps } from '../../server/method/seed-pipeline';
import { stepsFor } from '../../server/method/training/train-loop';
import { syntheticDataset, tinyExperiment, useWasm } from './method-fixtures';

const quiet: StageReporter = { metric: () => undefined, steps: () => undefined, log: () => undefined };

test('stepsFor: none for 0 epochs, at least one for any positive budget', () => {
  assert.equal(stepsFor(0, 40), 0);
  assert.equal(stepsFor(0.001, 40), 1);
  assert.equal(stepsFor(0.5, 40), 20);
  assert.equal(stepsFor(2, 40), 80);
});

test('a fine-tune of 0 epochs leaves the net exactly as it was', async () => {
  await useWasm();
  const experiment = tinyExperiment();
  const ctx: StageContext = { experiment, data: syntheticDataset(), seed: 1, factory: { buildNet, buildProjection }, report: quiet, readEvery: 10 };
  const net = buildThinNet(ctx);
  try {
    const before = allVariables(net).map((v) => v.dataSync().slice());
    const result = await trainClassifier(ctx, { phase: 'finetune', net, ...experiment.finetune, epochs: 0 });
    assert.equal(result.steps, 0);
    allVariables(net).forEach((v, i) => assert.deepEqual(v.dataSync(), before[i]));
  } finally {
    net.dispose();
  }
});

test('planned imitation steps (progress, ETA) are the steps stage imitation takes, group by group', async () => {
  await useWasm();
  // 0.3 epochs per block: per-block rounding and per-group rounding disagree.
  const experiment = tinyExperiment({
    model: { ...tinyExperiment().model, depth: 4 },
    widen: { factor: 2, mode: 'inside' },
    imitate: { ...tinyExperiment().imitate, groups: 'stage', epochsPerLayer: 0.3, batchSize: 7 },
  });
  const ctx: StageContext = { experiment, data: syntheticDataset(), seed: 1, factory: { buildNet, buildProjection }, report: quiet, readEvery: 10 };
  const wide = buildWideNet(ctx);
  const thin = buildThinNet(ctx);
  try {
    const result = await imitate(ctx, thin, wide);
    const taken = result.blocks.reduce((n, b) => n + b.steps, 0);
    assert.equal(plannedSteps(ctx, ['imitate']).imitate, taken);
  } finally {
    thin.dispose();
    wide.dispose();
  }
});
