// The size estimate the widening view and validation show agrees with the nets the engine builds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { estimateNets } from '../../server/experiment/estimate';
import { loadExperimentFile } from '../../server/experiment/load';
import { computeNetSizes } from '../../server/models/net-sizes';
import { buildNet } from '../../server/models';
import { useWasm } from './method-fixtures';
import { modelConfig, netSpec } from './models-helpers';

const image = { exampleShape: [12, 12, 1], numClasses: 5 };

for (const mode of ['all', 'inside'] as const) {
  test(`plain CNN without normalisation, widen mode ${mode}: estimated parameters = built parameters`, async () => {
    await useWasm();
    const model = modelConfig({ family: 'cnn', depth: 4, width: 6, downsampleAt: [1], normalization: false });
    const estimate = estimateNets(model, { factor: 3, mode }, image.exampleShape, image.numClasses, 32);
    const thin = buildNet(netSpec(model, image, { factor: 1, mode }));
    const wide = buildNet(netSpec(model, image, { factor: 3, mode }));
    try {
      assert.equal(estimate.thin.params, thin.params);
      assert.equal(estimate.wide.params, wide.params);
    } finally {
      thin.dispose();
      wide.dispose();
    }
  });
}

// The estimate counts the transformer's weights exactly: patch or token embedding, resizes between
// blocks of different widths, attention wider than the stream ("inside"), LayerNorms.
const transformerCases = [
  { label: 'images in 4x4 patches', data: { exampleShape: [12, 12, 3], numClasses: 5 }, patchSize: 4 },
  { label: 'images in 2x2 patches', data: { exampleShape: [8, 8, 1], numClasses: 5 }, patchSize: 2 },
  { label: 'token sequences', data: { exampleShape: [6], numClasses: 5, vocabSize: 16 }, patchSize: 4 },
];
for (const { label, data, patchSize } of transformerCases) {
  for (const widen of [{ factor: 3, mode: 'all' as const }, { factor: 3, mode: 'inside' as const }, { factor: 3, perLayer: [1, 3, 2], mode: 'all' as const }]) {
    test(`transformer on ${label}, widen ${JSON.stringify(widen)}: estimated parameters = built parameters`, async () => {
      await useWasm();
      const model = modelConfig({ family: 'transformer', depth: 3, width: 8, heads: 2, ffnMultiplier: 2, patchSize });
      const estimate = estimateNets(model, widen, data.exampleShape, data.numClasses, 32);
      const factors = widen.perLayer ?? [3, 3, 3];
      const thin = buildNet(netSpec(model, data, { factor: 1, mode: widen.mode }));
      const wide = buildNet(netSpec(model, data, { factors, mode: widen.mode }));
      try {
        assert.equal(estimate.thin.params, thin.params, 'thin');
        assert.equal(estimate.wide.params, wide.params, 'wide');
      } finally {
        thin.dispose();
        wide.dispose();
      }
    });
  }
}

test('net sizes of the Fashion-MNIST transformer example count its patch embedding', async () => {
  await useWasm();
  const file = join(__dirname, '../../examples/fashion-mnist-transformer.gowide.json');
  const { experiment } = loadExperimentFile(file);
  const { model, widen } = experiment;
  const sizes = await computeNetSizes(file);
  assert.deepEqual(sizes.problems, []);
  const estimate = estimateNets(model, widen, [28, 28, 1], 10, experiment.wide.batchSize);
  assert.equal(sizes.thin.params, estimate.thin.params);
  assert.equal(sizes.wide.params, estimate.wide.params);
  // FLOPs outside the blocks: the patch embedding (each of the tokens maps patchSize^2 pixels to the
  // hidden size) and the head (hidden size -> 10 classes).
  const tokens = (28 / model.patchSize) ** 2;
  const outsideBlocks = (net: 'thin' | 'wide', hidden: number) =>
    sizes[net].flops - sizes.blocks.reduce((sum, block) => sum + block[net].flops, 0) - hidden * 10;
  assert.equal(outsideBlocks('thin', model.width), tokens * model.patchSize ** 2 * model.width);
  // Widened inside each layer (the transformers' default), the wide net keeps the thin hidden size.
  assert.equal(widen.mode, 'inside');
  assert.equal(outsideBlocks('wide', model.width), tokens * model.patchSize ** 2 * model.width);
});
