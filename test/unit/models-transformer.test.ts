import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { buildNet } from '../../server/models';
import type { DataShape } from '../../server/models';
import { assertNoLeakInStep, assertRoundTrip, assertSeededDeterminism, fitBatch, modelConfig, netSpec, randomBatchForFile, withNets } from './models-helpers';

const data: DataShape = { exampleShape: [6], numClasses: 3, vocabSize: 11 };
const config = modelConfig({ family: 'transformer', depth: 2, width: 8, heads: 2, ffnMultiplier: 2 });
const batch = randomBatchForFile('cpu', data, 8);

test('transformer: shapes and parameter counts', async () => {
  await withNets([netSpec(config, data)], async ([thin]) => {
    assert.deepEqual(thin.stem.outputShape, [6, 8]);
    assert.deepEqual(thin.blocks.map((b) => b.outputShape), [[6, 8], [6, 8]]);
    const states = tf.tidy(() => thin.hiddenStates(batch().x, true).map((h) => h.shape));
    assert.deepEqual(states, [[8, 6, 8], [8, 6, 8], [8, 6, 8]]);
    assert.deepEqual(tf.tidy(() => thin.forward(batch().x, false).shape), [8, 3]);
    // embeddings 11*8 + positions 6*8 + LN 16
    assert.equal(thin.stem.params, 88 + 48 + 16);
    // attention 4*(8*8+8), FFN 8*16+16 + 16*8+8, two LNs
    assert.equal(thin.blocks[0].params, 288 + 144 + 136 + 32);
    assert.equal(thin.blocks[0].flops, 4 * 6 * 64 + 2 * 36 * 8 + 2 * 6 * 8 * 16);
  });
});

test('transformer: "all" widens hidden size, heads and FFN; "inside" keeps the stream width', async () => {
  await withNets([netSpec(config, data, { factor: 2, mode: 'all' }), netSpec(config, data, { factor: 2, mode: 'inside' }), netSpec(config, data, { factors: [1, 2], mode: 'all' })], async ([wideAll, wideInside, mixed]) => {
    assert.deepEqual(wideAll.blocks.map((b) => b.outputShape), [[6, 16], [6, 16]]);
    assert.deepEqual(wideInside.blocks.map((b) => b.outputShape), [[6, 8], [6, 8]]);
    const attentionKernel = wideInside.namedVariables().get('block0_attention/query_kernel');
    assert.deepEqual(attentionKernel?.shape, [8, 16], '4 heads of dim 4');
    assert.deepEqual(wideInside.namedVariables().get('block0_ffn_in/kernel')?.shape, [8, 32]);
    assert.deepEqual(mixed.blocks.map((b) => b.outputShape), [[6, 8], [6, 16]]);
    assert.ok(mixed.namedVariables().has('block1_resize/kernel'));
    assert.deepEqual(tf.tidy(() => mixed.forward(batch().x, true).shape), [8, 3]);
  });
});

test('transformer: seeded determinism', () => {
  assertSeededDeterminism(netSpec(config, data, { factor: 2 }));
});

test('transformer: Adam steps reduce the loss, no leaks, round trip with custom layers', async () => {
  await withNets([netSpec({ ...config, dropout: 0.1 }, data, { factor: 2 })], async ([net]) => {
    const { before: start, after: end } = fitBatch(net, batch().x, batch().y, 20);
    assert.ok(end < start * 0.8, `loss ${start} -> ${end}`);
    assertNoLeakInStep(net, batch().x, batch().y);
    await assertRoundTrip(net, batch().x);
  });
});

test('transformer: rejects a width that is not a multiple of heads', () => {
  assert.throws(() => buildNet(netSpec({ ...config, width: 9 }, data)), /multiple of model.heads/);
});
