// The size estimate the widening view and validation show agrees with the nets the engine builds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateNets } from '../../server/experiment/estimate';
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
