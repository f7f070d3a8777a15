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
import { LayerFactory, type Nonlinearity } from '../../server/models/layer-factory';
import { assertBiasedOpMatchesCpu, biasThenActivation, kernelComparison, layerStackStep, nativeWasmBackend, skipWithoutNative } from './kernel-test-helpers';

const { assertClose } = kernelComparison({ absoluteFloor: 1e-5, actualName: 'fused' });

/** A dense layer of a test stack: its part and key (the layer's name), units, and whether it applies the activation. */
type DenseSpec = [part: string, key: string, units: number, nonlinearity: Nonlinearity];
type StackStep = Awaited<ReturnType<typeof layerStackStep>>;

/** One training step of a stack of dense layers on the backend: gowide's (LayerFactory.dense) or tf.layers' own. */
async function denseStackStep(backendName: 'cpu' | 'wasm', fused: boolean, activation: 'relu' | 'gelu', specs: DenseSpec[], inputShape: number[], batch: number): Promise<StackStep> {
  await tf.setBackend(backendName);
  const make = new LayerFactory(3, activation);
  const layers = specs.map(([part, key, units, nonlinearity]) =>
    fused ? make.dense(part, key, units, nonlinearity) : tf.layers.dense({ name: `${part}_${key}`, units, ...(nonlinearity === 'act' ? { activation } : {}) }),
  );
  return layerStackStep(layers, inputShape, batch);
}

/** The fused stack's step against tf.layers' on cpu: the same values, classes and configs, each dense layer one GowideDense. */
function assertFusedStepMatches(actual: StackStep, expected: StackStep): void {
  actual.values.forEach((values, i) => assertClose(values, expected.values[i], `fused output ${i}`));
  assert.deepEqual(actual.described, expected.described);
  assert.equal(actual.kernels.filter((k) => k === DENSE).length, actual.described.length, actual.kernels.join());
}

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
    const layers: DenseSpec[] = [['block0', 'dense', 8, 'act'], ['head', 'dense', 4, 'linear']];
    const run = (backendName: 'cpu' | 'wasm', fused: boolean) => denseStackStep(backendName, fused, 'relu', layers, [12], 16);
    const expected = await run('cpu', false);
    const onCpu = await run('cpu', true); // no fused kernel: the standard path
    onCpu.values.forEach((values, i) => assertClose(values, expected.values[i], `cpu output ${i}`));
    const actual = await run('wasm', true);
    assertFusedStepMatches(actual, expected);
    for (const unfused of ['Relu', '_FusedMatMul']) assert.ok(!actual.kernels.includes(unfused), `${unfused} in ${actual.kernels.join()}`);
    assert.ok(actual.kernels.includes(RELU_GRAD_SUM), `the ReLU layer's gradient and its bias's in one kernel: ${actual.kernels.join()}`);
    assert.ok(expected.kernels.includes('Relu'), 'TF.js splits the ReLU layer in training');
  });

  it('on a 3-D input with GELU (the feed-forward layers of a transformer block) it trains like tf.layers.dense on cpu: the products in GowideDense, GELU after them', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    const layers: DenseSpec[] = [['block0', 'ffn_in', 8, 'act'], ['block0', 'ffn_out', 6, 'linear']];
    const expected = await denseStackStep('cpu', false, 'gelu', layers, [5, 6], 4);
    const actual = await denseStackStep('wasm', true, 'gelu', layers, [5, 6], 4);
    assertFusedStepMatches(actual, expected);
    assert.ok(actual.kernels.includes(GELU), actual.kernels.join());
    assert.ok(!actual.kernels.includes('_FusedMatMul'), actual.kernels.join());
  });
});
