import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { buildNet } from '../../server/models';
import type { DataShape } from '../../server/models';
import { assertNoLeakInStep, assertRoundTrip, assertSeededDeterminism, fitBatch, modelConfig, netSpec, randomBatchForFile, withNets } from './models-helpers';

const data: DataShape = { exampleShape: [8, 8, 1], numClasses: 3 };
const config = modelConfig({ family: 'cnn', depth: 3, width: 4, downsampleAt: [0, 1] });
const batch = randomBatchForFile('cpu', data, 8);

test('cnn: shapes, pooling, thin vs wide sizes', async () => {
  await withNets([netSpec(config, data), netSpec(config, data, { factor: 2 })], async ([thin, wide]) => {
    assert.deepEqual(thin.stem.outputShape, [8, 8, 1]);
    assert.deepEqual(thin.blocks.map((b) => b.outputShape), [[4, 4, 4], [2, 2, 4], [2, 2, 4]]);
    assert.deepEqual(wide.blocks.map((b) => b.outputShape), [[4, 4, 8], [2, 2, 8], [2, 2, 8]]);
    const states = tf.tidy(() => thin.hiddenStates(batch().x, true).map((h) => h.shape));
    assert.deepEqual(states, [[8, 8, 8, 1], [8, 4, 4, 4], [8, 2, 2, 4], [8, 2, 2, 4]]);
    assert.deepEqual(tf.tidy(() => wide.forward(batch().x, false).shape), [8, 3]);
    // conv kernels + BN gamma/beta per block, head dense
    assert.equal(thin.params, 9 * 1 * 4 + 8 + (9 * 4 * 4 + 8) * 2 + 4 * 3 + 3);
    assert.equal(thin.flops, 64 * 9 * 4 + 16 * 9 * 16 + 4 * 9 * 16 + 12);
    assert.equal(thin.blocks[0].stateVariables().length, 2, 'BN moving mean and variance are state');
    assert.ok(wide.params > thin.params);
  });
});

test('cnn: "inside" mode keeps block interfaces', async () => {
  await withNets([netSpec(config, data, { factor: 3, mode: 'inside' })], async ([wide]) => {
    assert.deepEqual(wide.blocks.map((b) => b.outputShape), [[4, 4, 4], [2, 2, 4], [2, 2, 4]]);
    assert.deepEqual(wide.blocks[0].trainableVariables().map((v) => v.shape).filter((s) => s.length === 4), [
      [3, 3, 1, 12],
      [3, 3, 12, 4],
    ]);
  });
});

test('cnn: seeded determinism', () => {
  assertSeededDeterminism(netSpec(config, data, { factor: 2 }));
});

test('cnn: Adam steps reduce the loss, BN statistics move only in training, no leaks', async () => {
  await withNets([netSpec({ ...config, dropout: 0 }, data, { factor: 2 })], async ([net]) => {
    const movingMean = net.blocks[0].stateVariables()[0];
    const meanBefore = Array.from(movingMean.dataSync());
    tf.tidy(() => net.forward(batch().x, false));
    assert.deepEqual(Array.from(movingMean.dataSync()), meanBefore, 'inference changed BN statistics');
    const { before: start, after: end } = fitBatch(net, batch().x, batch().y, 15);
    assert.notDeepEqual(Array.from(movingMean.dataSync()), meanBefore, 'training left BN statistics unchanged');
    assert.ok(end < start, `loss ${start} -> ${end}`);
    assertNoLeakInStep(net, batch().x, batch().y);
  });
});

test('cnn: toLayersModel round trip', async () => {
  await withNets([netSpec(config, data, { factor: 2 })], async ([net]) => {
    fitBatch(net, batch().x, batch().y, 2);
    await assertRoundTrip(net, batch().x);
  });
});

test('cnn without normalization', async () => {
  await withNets([netSpec({ ...config, normalization: false }, data)], async ([net]) => {
    assert.equal(net.blocks[0].stateVariables().length, 0);
    const { before: start, after: end } = fitBatch(net, batch().x, batch().y, 10);
    assert.ok(end < start, `loss ${start} -> ${end}`);
    await assertRoundTrip(net, batch().x);
  });
});
