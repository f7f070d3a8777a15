import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { buildNet } from '../../server/models';
import type { DataShape } from '../../server/models';
import { assertNoLeakInStep, assertRoundTrip, assertSeededDeterminism, fitBatch, modelConfig, netSpec, randomBatchForFile, withNets } from './models-helpers';

const data: DataShape = { exampleShape: [8, 8, 2], numClasses: 3 };
const config = modelConfig({ family: 'resnet', depth: 3, width: 8, bottleneckRatio: 0.5, downsampleAt: [1] });
const batch = randomBatchForFile('cpu', data, 8);

test('resnet: "inside" widening keeps stem, block and head shapes of the thin net', async () => {
  await withNets([netSpec(config, data, { mode: 'inside' }), netSpec(config, data, { factor: 4, mode: 'inside' })], async ([thin, wide]) => {
    assert.deepEqual(thin.stem.outputShape, [8, 8, 8]);
    assert.deepEqual(thin.blocks.map((b) => b.outputShape), [[8, 8, 8], [4, 4, 8], [4, 4, 8]]);
    assert.deepEqual(wide.stem.outputShape, thin.stem.outputShape);
    assert.deepEqual(wide.blocks.map((b) => b.outputShape), thin.blocks.map((b) => b.outputShape));
    assert.deepEqual(wide.head.trainableVariables().map((v) => v.shape), thin.head.trainableVariables().map((v) => v.shape));
    assert.equal(wide.stem.params, thin.stem.params);
    assert.ok(wide.params > 2 * thin.params);
    // thin block 0: 1x1 8->4, 3x3 4->4, 1x1 4->8 (no bias), BN gamma/beta for 4, 4, 8
    assert.equal(thin.blocks[0].params, 32 + 144 + 32 + 2 * (4 + 4 + 8));
    // the downsampling block has a projection shortcut: 1x1 8->8 + BN
    assert.equal(thin.blocks[1].params, 32 + 144 + 32 + 2 * (4 + 4 + 8) + 64 + 16);
    assert.equal(thin.blocks[0].flops, 64 * (32 + 144 + 32));
    const states = tf.tidy(() => wide.hiddenStates(batch().x, false).map((h) => h.shape));
    assert.deepEqual(states, [[8, 8, 8, 8], [8, 8, 8, 8], [8, 4, 4, 8], [8, 4, 4, 8]]);
  });
});

test('resnet: mode "all" widens the interfaces', async () => {
  await withNets([netSpec(config, data, { factor: 2, mode: 'all' })], async ([wide]) => {
    assert.deepEqual(wide.stem.outputShape, [8, 8, 16]);
    assert.deepEqual(wide.blocks.map((b) => b.outputShape), [[8, 8, 16], [4, 4, 16], [4, 4, 16]]);
  });
});

test('resnet: seeded determinism', () => {
  assertSeededDeterminism(netSpec(config, data, { factor: 2, mode: 'inside' }));
});

test('resnet: Adam steps reduce the loss, no leaks, round trip', async () => {
  await withNets([netSpec(config, data, { factor: 2, mode: 'inside' })], async ([net]) => {
    const { before: start, after: end } = fitBatch(net, batch().x, batch().y, 15);
    assert.ok(end < start, `loss ${start} -> ${end}`);
    assertNoLeakInStep(net, batch().x, batch().y);
    await assertRoundTrip(net, batch().x);
  });
});
