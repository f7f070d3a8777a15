// The diagnostics and safeguards the evidence study added: dead output units after imitation, and
// the warm-up schedule that keeps early large steps from killing them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildNet, buildProjection } from '../../server/models';
import { buildThinNet, type StageContext, type StageReporter } from '../../server/method/context';
import { deadUnits, deadUnitsWarning } from '../../server/method/stages/imitate';
import { scheduledLearningRate, WARMUP_SHARE } from '../../server/method/training/optimizer';
import { syntheticDataset, tinyExperiment, useWasm } from './method-fixtures';

const quiet: StageReporter = { metric: () => undefined, steps: () => undefined, log: () => undefined };

test('warmup-cosine ramps the rate up linearly, peaks, then decays to about zero', () => {
  const s = { optimizer: 'adam' as const, learningRate: 0.01, schedule: 'warmup-cosine' as const, totalSteps: 200 };
  const warm = Math.round(WARMUP_SHARE * 200);
  const rates = Array.from({ length: 200 }, (_, step) => scheduledLearningRate(s, step));
  assert.ok(Math.abs(rates[0] - 0.01 / warm) < 1e-12, `first step ${rates[0]}`);
  for (let i = 1; i < warm; i++) assert.ok(rates[i] > rates[i - 1], `warm-up rises at ${i}`);
  assert.ok(Math.abs(rates[warm] - 0.01) < 1e-12, `peak ${rates[warm]}`);
  for (let i = warm + 1; i < 200; i++) assert.ok(rates[i] <= rates[i - 1], `decays at ${i}`);
  assert.ok(rates[199] < 0.0001, `last ${rates[199]}`);
  assert.equal(scheduledLearningRate({ ...s, schedule: 'cosine' }, 0), 0.01, 'plain cosine starts at the full rate');
});

test('dead units: a block whose bias is driven far below zero has every output unit dead', async () => {
  await useWasm();
  const experiment = tinyExperiment({ model: { ...tinyExperiment().model, depth: 3, width: 10 } });
  const ctx: StageContext = { experiment, data: syntheticDataset(), seed: 1, factory: { buildNet, buildProjection }, report: quiet, readEvery: 10 };
  const thin = buildThinNet(ctx);
  try {
    const fresh = await deadUnits(ctx, thin, 1);
    assert.equal(fresh.units, 10);
    assert.ok(fresh.dead < fresh.units, `a freshly initialised block has live units (${fresh.dead}/${fresh.units} dead)`);
    const vars = thin.blocks[1].trainableVariables();
    const bias = vars[vars.length - 1];
    bias.assign(bias.sub(1e4));
    assert.deepEqual(await deadUnits(ctx, thin, 1), { dead: 10, units: 10 });
  } finally {
    thin.dispose();
  }
});

test('dead-unit warning: above a quarter of the units, with the fix that fits the block', () => {
  assert.equal(deadUnitsWarning(4, 16, undefined, 0), undefined, 'a quarter is tolerated');
  assert.match(deadUnitsWarning(5, 16, undefined, 0)!, /^5 of 16 output units never fire .*set imitate\.projectionWarmup \(e\.g\. 0\.2\)/);
  assert.match(deadUnitsWarning(5, 16, undefined, 0.2)!, /raise imitate\.projectionWarmup \(now 0\.2\).*or lower imitate\.learningRate$/, 'a warm-up already set is not suggested again');
  // Widened inside (no projection): units the wide block leaves off are no loss.
  assert.equal(deadUnitsWarning(6, 16, 6, 0.2), undefined);
  assert.match(deadUnitsWarning(8, 16, 2, 0.2)!, /^8 of 16 .*the wide block leaves only 2 off; lower imitate\.learningRate$/);
});
