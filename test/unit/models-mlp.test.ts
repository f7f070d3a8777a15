import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { buildNet, buildProjection } from '../../server/models';
import type { DataShape } from '../../server/models';
import { assertNoLeakInStep, assertRoundTrip, assertSeededDeterminism, fitBatch, modelConfig, netSpec, randomBatchForFile, withNets } from './models-helpers';

const data: DataShape = { exampleShape: [6, 6, 1], numClasses: 3 };
const config = modelConfig({ family: 'mlp', depth: 4, width: 8 });
const batch = randomBatchForFile('wasm', data, 16);

test('mlp: hidden state and logit shapes, thin vs wide sizes', async () => {
  await withNets([netSpec(config, data), netSpec(config, data, { factor: 3 })], async ([thin, wide]) => {
    assert.deepEqual(thin.stem.outputShape, [36]);
    assert.deepEqual(thin.blocks.map((b) => b.outputShape), [[8], [8], [8], [8]]);
    assert.deepEqual(wide.blocks.map((b) => b.outputShape), [[24], [24], [24], [24]]);
    const states = tf.tidy(() => thin.hiddenStates(batch().x, false, 1).map((h) => h.shape));
    assert.deepEqual(states, [[16, 36], [16, 8], [16, 8]]);
    assert.deepEqual(tf.tidy(() => wide.forward(batch().x, false).shape), [16, 3]);
    // 36*8+8 + 3*(8*8+8) + 8*3+3
    assert.equal(thin.params, 296 + 216 + 27);
    assert.equal(thin.flops, 36 * 8 + 3 * 64 + 24);
    assert.equal(wide.params, 36 * 24 + 24 + 3 * (24 * 24 + 24) + 24 * 3 + 3);
    assert.ok(wide.params > thin.params);
  });
});

test('mlp: per-block factors and "inside" mode', async () => {
  await withNets([netSpec(config, data, { factors: [1, 2, 3, 4] }), netSpec(config, data, { factor: 4, mode: 'inside' })], async ([perBlock, inside]) => {
    assert.deepEqual(perBlock.blocks.map((b) => b.outputShape[0]), [8, 16, 24, 32]);
    assert.deepEqual(inside.blocks.map((b) => b.outputShape), [[8], [8], [8], [8]]);
    assert.equal(inside.blocks[1].params, 8 * 32 + 32 + 32 * 8 + 8);
    const thinAll = buildNet(netSpec(config, data, { mode: 'all' }));
    const thinInside = buildNet(netSpec(config, data, { mode: 'inside' }));
    assert.deepEqual([...thinInside.namedVariables().keys()], [...thinAll.namedVariables().keys()], 'thin net depends on the mode');
    assert.equal(thinInside.params, thinAll.params);
    thinAll.dispose();
    thinInside.dispose();
  });
});

test('mlp: seeded determinism and stable variable names', () => {
  assertSeededDeterminism(netSpec(config, data, { factor: 2 }));
});

test('mlp: Adam steps reduce the loss, no tensor leaks', async () => {
  await withNets([netSpec(config, data, { factor: 2 })], async ([net]) => {
    const { before: start, after: end } = fitBatch(net, batch().x, batch().y, 20);
    assert.ok(end < start * 0.7, `loss ${start} -> ${end}`);
    assertNoLeakInStep(net, batch().x, batch().y);
  });
});

test('mlp: toLayersModel round trip through the filesystem handler', async () => {
  await withNets([netSpec(config, data, { factor: 2 })], async ([net]) => {
    fitBatch(net, batch().x, batch().y, 3);
    await assertRoundTrip(net, batch().x);
  });
});

test('dispose frees every variable', () => {
  const before = tf.memory().numTensors;
  const net = buildNet(netSpec(config, data, { factor: 2 }));
  assert.ok(tf.memory().numTensors > before);
  net.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('projection: linear over the last axis, bias-free, identity when widths match', () => {
  const p = buildProjection([4, 4, 8], [4, 4, 24], 1, 'proj0');
  const same = buildProjection([8], [8], 1, 'proj1');
  try {
    assert.deepEqual(p.outputShape, [4, 4, 24]);
    assert.equal(p.params, 8 * 24);
    assert.equal(p.stateVariables().length, 0);
    const x = tf.randomNormal([2, 8]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(same.apply(x, true), x))).dataSync()[0]);
    assert.ok(diff < 1e-6);
    x.dispose();
    assert.throws(() => buildProjection([4, 4, 8], [2, 2, 8], 1, 'bad'), /differ outside the last axis/);
  } finally {
    p.dispose();
    same.dispose();
  }
});
