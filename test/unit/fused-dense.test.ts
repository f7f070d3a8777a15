// Checks the dense layer's fused op (server/engine/kernels/dense.ts: GowideDense forward, the ReLU's
// gradient from its output and two products backwards; built by LayerFactory.dense) on wasm against
// tf.matMul, tf.add and tf.relu on the pure-JS cpu backend: values and the gradients of x, kernel and
// bias, as an op and as a layer inside a tf.model in training; one kernel forward where TF.js would
// run three; the standard class name and config; and TF.js's kernels where the fused op cannot run.
// Also the transformer's use: a 3-D input, and GELU after the fused product.
//
// Without the addon the tests are skipped with the reason, unless GOWIDE_REQUIRE_NATIVE=1 (CI).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { dense } from '../../server/engine/kernels/dense';
import { DENSE } from '../../server/engine/native/blas-kernels';
import { GELU, RELU_GRAD, RELU_GRAD_SUM } from '../../server/engine/native/elementwise-kernels';
import { LayerFactory } from '../../server/models/layer-factory';
import { assertBiasedOpMatchesCpu, biasThenActivation, kernelComparison, layerStackStep, nativeWasmBackend, skipWithoutNative } from './kernel-test-helpers';

const { assertClose } = kernelComparison({ absoluteFloor: 1e-5, actualName: 'fused' });

describe('fused dense (matMul + bias + ReLU)', () => {
  let reason: string | null = 'not run';
  before(async () => {
    reason = await nativeWasmBackend([DENSE, RELU_GRAD]);
  });

  it('GowideDense and its gradient match matMul, add and relu on cpu, with and without bias', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    let seed = 1;
    for (const [batch, inputs, units] of [[1, 1, 1], [7, 13, 5], [128, 64, 32]]) {
      await assertBiasedOpMatchesCpu({
        label: `${batch}x${inputs}x${units}`,
        seed,
        shapes: (withBias) => ({ x: [batch, inputs], weight: [inputs, units], bias: withBias ? [units] : null }),
        standard: (activation) => (x, kernel, bias) => biasThenActivation(tf.matMul(x, kernel), bias, activation),
        fused: (activation) => (x, kernel, bias) => dense(x, kernel, bias, activation)!,
        names: ['y', 'dx', 'dkernel', 'dbias'],
        assertClose,
      });
      seed += 100;
    }
  });

  it('refuses what it does not compute: another activation, a 3-D input, mismatched shapes, another backend', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    await tf.setBackend('wasm');
    const [x, kernel, bias] = [tf.zeros([4, 3]), tf.zeros([3, 2]), tf.zeros([2])];
    assert.equal(dense(x, kernel, bias, 'gelu'), null);
    assert.equal(dense(tf.zeros([2, 4, 3]), kernel, bias, 'relu'), null);
    assert.equal(dense(x, tf.zeros([4, 2]), bias, 'relu'), null);
    assert.equal(dense(x, kernel, tf.zeros([3]), 'relu'), null);
    const fused = dense(x, kernel, bias, 'relu');
    assert.deepEqual(fused?.shape, [4, 2]);
    await tf.setBackend('cpu');
    assert.equal(dense(x, kernel, bias, 'relu'), null);
  });

  it('LayerFactory.dense in a tf.model trains like tf.layers.dense on cpu, one kernel forward instead of three; same class name and config', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    const run = async (backendName: 'cpu' | 'wasm', fused: boolean) => {
      await tf.setBackend(backendName);
      const make = new LayerFactory(3, 'relu');
      const layers = fused
        ? [make.dense('block0', 'dense', 8, 'act'), make.dense('head', 'dense', 4, 'linear')]
        : [tf.layers.dense({ name: 'block0_dense', units: 8, activation: 'relu' }), tf.layers.dense({ name: 'head_dense', units: 4 })];
      return layerStackStep(layers, [12], 16);
    };
    const expected = await run('cpu', false);
    const onCpu = await run('cpu', true); // no fused kernel: the standard path
    onCpu.values.forEach((values, i) => assertClose(values, expected.values[i], `cpu output ${i}`));
    const actual = await run('wasm', true);
    actual.values.forEach((values, i) => assertClose(values, expected.values[i], `fused output ${i}`));
    assert.deepEqual(actual.described, expected.described);
    assert.equal(actual.kernels.filter((k) => k === DENSE).length, 2, actual.kernels.join());
    for (const unfused of ['Relu', '_FusedMatMul']) assert.ok(!actual.kernels.includes(unfused), `${unfused} in ${actual.kernels.join()}`);
    assert.ok(actual.kernels.includes(RELU_GRAD_SUM), `the ReLU layer's gradient and its bias's in one kernel: ${actual.kernels.join()}`);
    assert.ok(expected.kernels.includes('Relu'), 'TF.js splits the ReLU layer in training');
  });

  it('on a 3-D input with GELU (the feed-forward layers of a transformer block) it trains like tf.layers.dense on cpu: the products in GowideDense, GELU after them', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    const run = async (backendName: 'cpu' | 'wasm', fused: boolean) => {
      await tf.setBackend(backendName);
      const make = new LayerFactory(3, 'gelu');
      const layers = fused
        ? [make.dense('block0', 'ffn_in', 8, 'act'), make.dense('block0', 'ffn_out', 6, 'linear')]
        : [tf.layers.dense({ name: 'block0_ffn_in', units: 8, activation: 'gelu' }), tf.layers.dense({ name: 'block0_ffn_out', units: 6 })];
      return layerStackStep(layers, [5, 6], 4);
    };
    const expected = await run('cpu', false);
    const actual = await run('wasm', true);
    actual.values.forEach((values, i) => assertClose(values, expected.values[i], `fused output ${i}`));
    assert.deepEqual(actual.described, expected.described);
    assert.equal(actual.kernels.filter((k) => k === DENSE).length, 2, actual.kernels.join());
    assert.ok(actual.kernels.includes(GELU), actual.kernels.join());
    assert.ok(!actual.kernels.includes('_FusedMatMul'), actual.kernels.join());
  });
});
