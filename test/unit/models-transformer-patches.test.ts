// The transformer on images: the patch stem (ViT-style), widening and imitation through it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../../server/data/load';
import { initEngine } from '../../server/engine/engine';
import { buildThinNet, type StageContext, type StageReporter } from '../../server/method/context';
import { imitate } from '../../server/method/stages/imitate';
import { trainWide } from '../../server/method/stages/wide';
import { buildNet, buildProjection } from '../../server/models';
import type { DataShape } from '../../server/models';
import { patchSizesFor } from '../../server/models/patch-grid';
import { DEFAULT_MODEL } from '../../server/experiment/defaults';
import { tinyExperiment } from './method-fixtures';
import { assertNoLeakInStep, assertRoundTrip, assertSeededDeterminism, fitBatch, modelConfig, netSpec, randomBatchForFile, withNets } from './models-helpers';

const image: DataShape = { exampleShape: [8, 8, 1], numClasses: 3 };
const config = modelConfig({ family: 'transformer', depth: 2, width: 8, heads: 2, ffnMultiplier: 2, patchSize: 4 });
const batch = randomBatchForFile('cpu', image, 8);

test('transformer on images: 4x4 patches of an 8x8 image are 4 tokens; counts include the patch embedding', async () => {
  await withNets([netSpec(config, image)], async ([thin]) => {
    assert.deepEqual(thin.stem.outputShape, [4, 8]);
    assert.deepEqual(thin.blocks.map((b) => b.outputShape), [[4, 8], [4, 8]]);
    const states = tf.tidy(() => thin.hiddenStates(batch().x, true).map((h) => h.shape));
    assert.deepEqual(states, [[8, 4, 8], [8, 4, 8], [8, 4, 8]]);
    assert.deepEqual(tf.tidy(() => thin.forward(batch().x, false).shape), [8, 3]);
    // patch embedding 4*4*1 x 8 (no bias) + positions 4 x 8 + LN 16
    assert.equal(thin.stem.params, 128 + 32 + 16);
    // each of the 4 patches: 16 values x 8 outputs
    assert.equal(thin.stem.flops, 4 * 16 * 8);
    assert.deepEqual(thin.namedVariables().get('stem_patches/kernel')?.shape, [4, 4, 1, 8]);
  });
});

test('transformer on images: token t is patch t in row-major order, a linear map of its pixels', async () => {
  const rgb: DataShape = { exampleShape: [4, 6, 3], numClasses: 2 };
  const spec = netSpec({ ...config, patchSize: 2, normalization: false }, rgb);
  await withNets([spec], async ([net]) => {
    assert.deepEqual(net.stem.outputShape, [6, 8], '2 rows x 3 columns of 2x2 patches');
    const vars = net.namedVariables();
    const kernel = vars.get('stem_patches/kernel')!; // [2, 2, 3, 8]
    const positions = vars.get('stem_position/embeddings')!; // [6, 8]
    const x = tf.randomUniform([2, 4, 6, 3], 0, 1, 'float32', 5);
    try {
      const maxDiff = tf.tidy(() => {
        // [b, rows, 2, columns, 2, 3] -> [b, rows, columns, 2, 2, 3] -> [b, 6, 12]
        const patches = tf.reshape(tf.transpose(tf.reshape(x, [2, 2, 2, 3, 2, 3]), [0, 1, 3, 2, 4, 5]), [2, 6, 12]);
        const expected = tf.add(tf.reshape(tf.matMul(tf.reshape(patches, [12, 12]), tf.reshape(kernel, [12, 8])), [2, 6, 8]), positions);
        return tf.max(tf.abs(tf.sub(net.stem.apply(x, false), expected))).dataSync()[0];
      });
      assert.ok(maxDiff < 1e-5, `stem differs from patches x kernel + positions by ${maxDiff}`);
    } finally {
      x.dispose();
    }
  });
});

test('transformer on images: a patch size that does not divide the image is refused with the sizes that do', () => {
  assert.throws(() => buildNet(netSpec({ ...config, patchSize: 3 }, image)), {
    message: 'model.patchSize 3 does not cut the 8x8 images into whole patches; use a patch size that divides 8: 1, 2, 4, 8',
  });
  assert.throws(() => buildNet(netSpec({ ...config, patchSize: 4 }, { exampleShape: [8, 6, 1], numClasses: 3 })), /use a patch size that divides both 8 and 6: 1, 2$/);
  assert.deepEqual(patchSizesFor(28, 28), [1, 2, 4, 7, 14, 28]);
  // The default cuts Fashion-MNIST (28x28) and the built-in shapes (16x16).
  assert.ok([28, 16].every((side) => side % DEFAULT_MODEL.transformer.patchSize === 0));
});

test('transformer on images: "all" widens the stream from the patch embedding on, "inside" keeps stem and head shapes', async () => {
  await withNets([netSpec(config, image, { factor: 2, mode: 'all' }), netSpec(config, image, { factor: 2, mode: 'inside' }), netSpec(config, image)], async ([wideAll, wideInside, thin]) => {
    assert.deepEqual(wideAll.stem.outputShape, [4, 16]);
    assert.deepEqual(wideAll.namedVariables().get('stem_patches/kernel')?.shape, [4, 4, 1, 16]);
    assert.deepEqual(wideAll.blocks.map((b) => b.outputShape), [[4, 16], [4, 16]]);
    assert.deepEqual(wideInside.blocks.map((b) => b.outputShape), [[4, 8], [4, 8]]);
    assert.deepEqual(wideInside.namedVariables().get('block0_attention/query_kernel')?.shape, [8, 16]);
    assert.deepEqual(wideInside.namedVariables().get('block0_ffn_in/kernel')?.shape, [8, 32]);
    // Same stem and head variables as the thin net's: the thin net can take them over (shared head).
    for (const part of ['stem', 'head'] as const) {
      assert.deepEqual(wideInside[part].trainableVariables().map((v) => v.shape), thin[part].trainableVariables().map((v) => v.shape), part);
    }
    assert.notDeepEqual(wideAll.head.trainableVariables().map((v) => v.shape), thin.head.trainableVariables().map((v) => v.shape));
  });
});

test('transformer on images: seeded determinism', () => {
  assertSeededDeterminism(netSpec(config, image, { factor: 2 }));
});

test('transformer on images: Adam steps reduce the loss, no leaks, round trip of the exported model', async () => {
  await withNets([netSpec({ ...config, dropout: 0.1 }, image, { factor: 2 })], async ([net]) => {
    const { before: start, after: end } = fitBatch(net, batch().x, batch().y, 20);
    assert.ok(end < start * 0.8, `loss ${start} -> ${end}`);
    assertNoLeakInStep(net, batch().x, batch().y);
    await assertRoundTrip(net, batch().x);
  });
});

const quiet: StageReporter = { metric: () => undefined, steps: () => undefined, log: () => undefined };

for (const mode of ['all', 'inside'] as const) {
  test(`transformer on the built-in shapes images: imitation loss falls for every block (widen mode ${mode})`, async () => {
    await initEngine({ backend: 'wasm' }); // with gowide's conv gradients (and native kernels where built)
    const data = await loadDataset({ format: 'shapes', trainLimit: 600, testLimit: 100, validationSplit: 0.2 }, '.', 1);
    const experiment = tinyExperiment({
      data: { format: 'shapes', trainLimit: 600, testLimit: 100, validationSplit: 0.2 },
      model: { ...DEFAULT_MODEL.transformer, family: 'transformer', depth: 2, width: 8, heads: 2, ffnMultiplier: 2, downsampleAt: [] },
      widen: { factor: 2, mode },
      wide: { ...tinyExperiment().wide, epochs: 6, batchSize: 32 },
      // What is tested is imitation through the patch stem, not how good so small a wide net gets.
      minWideAccuracy: 0,
      imitate: { ...tinyExperiment().imitate, epochsPerLayer: 3, batchSize: 32 },
    });
    const ctx: StageContext = { experiment, data, seed: 1, factory: { buildNet, buildProjection }, report: quiet, readEvery: 10 };
    const wide = await trainWide(ctx);
    const thin = buildThinNet(ctx);
    try {
      assert.deepEqual(thin.stem.outputShape, [16, 8], '16x16 images in 4x4 patches');
      const result = await imitate(ctx, thin, wide.net);
      assert.equal(result.headShared, mode === 'inside');
      assert.equal(result.blocks.length, 2);
      for (const b of result.blocks) {
        assert.ok(b.endLoss < 0.7 * b.startLoss, `block ${b.block}: ${b.startLoss.toFixed(3)} -> ${b.endLoss.toFixed(3)}`);
      }
    } finally {
      thin.dispose();
      wide.net.dispose();
    }
  });
}
