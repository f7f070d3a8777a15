// Stage 2 on a small MLP: every block's normalised imitation loss ends well below where it started.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildNet, buildProjection } from '../../server/models';
import type { StageContext, StageReporter } from '../../server/method/context';
import { stepsPerEpoch } from '../../server/method/training/batches';
import { imitate } from '../../server/method/stages/imitate';
import { trainWide } from '../../server/method/stages/wide';
import { buildThinNet } from '../../server/method/context';
import { syntheticDataset, tinyExperiment, useWasm } from './method-fixtures';

const quiet: StageReporter = { metric: () => undefined, steps: () => undefined, log: () => undefined };

for (const mode of ['all', 'inside'] as const) {
  test(`imitation loss falls for every block (widen mode ${mode})`, async () => {
    await useWasm();
    const experiment = tinyExperiment({
      model: { ...tinyExperiment().model, depth: 4, width: 12 },
      widen: { factor: 3, mode },
      imitate: { ...tinyExperiment().imitate, epochsPerLayer: 8 },
    });
    const ctx: StageContext = {
      experiment,
      data: syntheticDataset(),
      seed: 1,
      factory: { buildNet, buildProjection },
      report: quiet,
      readEvery: 10,
    };
    const wide = await trainWide(ctx);
    const thin = buildThinNet(ctx);
    try {
      const result = await imitate(ctx, thin, wide.net);
      assert.equal(result.blocks.length, 4);
      assert.equal(result.headShared, mode === 'inside');
      for (const b of result.blocks) {
        assert.ok(b.endLoss < 0.7 * b.startLoss, `block ${b.block}: ${b.startLoss.toFixed(3)} -> ${b.endLoss.toFixed(3)}`);
      }
      assert.ok(result.warmStartAccuracy > 1 / experiment.model.width, `warm start ${result.warmStartAccuracy}`);
    } finally {
      thin.dispose();
      wide.net.dispose();
    }
  });
}

test('grouped imitation: blocks of a group train together against the group output, on the whole group budget', async () => {
  await useWasm();
  // An MLP is one stage: all four blocks imitate the wide net's last block output together.
  const experiment = tinyExperiment({
    model: { ...tinyExperiment().model, depth: 4, width: 12 },
    widen: { factor: 3, mode: 'inside' },
    imitate: { ...tinyExperiment().imitate, groups: 'stage', epochsPerLayer: 2 },
  });
  const ctx: StageContext = { experiment, data: syntheticDataset(), seed: 1, factory: { buildNet, buildProjection }, report: quiet, readEvery: 10 };
  const wide = await trainWide(ctx);
  const thin = buildThinNet(ctx);
  const started: [number, number][] = [];
  const checkpoints: number[] = [];
  try {
    const before = thin.blocks.map((b) => b.trainableVariables().map((v) => v.dataSync().slice()));
    const result = await imitate(ctx, thin, wide.net, { blockStarted: (b, f) => started.push([b, f]), afterBlock: async (b) => void checkpoints.push(b) });
    assert.deepEqual(result.blocks.map((b) => [b.firstBlock, b.block]), [[0, 3]]);
    assert.deepEqual(started, [[3, 0]]);
    assert.deepEqual(checkpoints, [3]);
    const [group] = result.blocks;
    assert.ok(group.endLoss < 0.7 * group.startLoss, `${group.startLoss.toFixed(3)} -> ${group.endLoss.toFixed(3)}`);
    // 2 epochs per block for 4 blocks: 8 epochs.
    assert.equal(group.steps, Math.round(8 * stepsPerEpoch(ctx.data.train.count, experiment.imitate.batchSize)));
    thin.blocks.forEach((b, i) =>
      b.trainableVariables().forEach((v, j) => assert.notDeepEqual(v.dataSync(), before[i][j], `block ${i} variable ${j} did not train`)),
    );
  } finally {
    thin.dispose();
    wide.net.dispose();
  }
});

test('groups of 2 blocks: each pair trains against its upper block, the odd block alone, each on its blocks\' budget; a resume inside a pair starts there', async () => {
  await useWasm();
  const experiment = tinyExperiment({
    model: { ...tinyExperiment().model, depth: 5, width: 12 },
    widen: { factor: 3, mode: 'all' },
    imitate: { ...tinyExperiment().imitate, groups: 2, epochsPerLayer: 2 },
  });
  const ctx: StageContext = { experiment, data: syntheticDataset(), seed: 1, factory: { buildNet, buildProjection }, report: quiet, readEvery: 10 };
  const wide = await trainWide(ctx);
  const thin = buildThinNet(ctx);
  const perEpoch = stepsPerEpoch(ctx.data.train.count, experiment.imitate.batchSize);
  try {
    const checkpoints: number[] = [];
    const result = await imitate(ctx, thin, wide.net, { afterBlock: async (b) => void checkpoints.push(b) });
    assert.deepEqual(result.blocks.map((b) => [b.firstBlock, b.block]), [[0, 1], [2, 3], [4, 4]]);
    assert.deepEqual(checkpoints, [1, 3, 4]);
    assert.deepEqual(result.blocks.map((b) => b.steps), [4, 4, 2].map((epochs) => Math.round(epochs * perEpoch)));
    for (const g of result.blocks) assert.ok(g.endLoss < 0.8 * g.startLoss, `blocks ${g.firstBlock}-${g.block}: ${g.startLoss.toFixed(3)} -> ${g.endLoss.toFixed(3)}`);
    // A checkpoint after block 2 (written under "block"): the pair 2-3 resumes at 3.
    const resumed = await imitate(ctx, thin, wide.net, { startBlock: 3 });
    assert.deepEqual(resumed.blocks.map((b) => [b.firstBlock, b.block]), [[3, 3], [4, 4]]);
  } finally {
    thin.dispose();
    wide.net.dispose();
  }
});
