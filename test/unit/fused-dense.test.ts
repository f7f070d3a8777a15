// Checks the dense layer's fused op (server/engine/kernels/dense.ts: GowideDense forward, the ReLU's
// gradient from its output and two products backwards; built by LayerFactory.dense) on wasm against
// tf.matMul, tf.add and tf.relu on the pure-JS cpu backend: values and the gradients of x, kernel and
// bias, as an op and as a layer inside a tf.model in training; one kernel forward where TF.js would
// run three; the standard class name and config; and TF.js's kernels where the fused op cannot run.
//
// Without the addon the tests are skipped with the reason, unless GOWIDE_REQUIRE_NATIVE=1 (CI).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { dense } from '../../server/engine/kernels/dense';
import { DENSE } from '../../server/engine/native/blas-kernels';
import { RELU_GRAD } from '../../server/engine/native/elementwise-kernels';
import { LayerFactory } from '../../server/models/layer-factory';
import { kernelComparison, nativeWasmBackend, randomValues, skipWithoutNative } from './kernel-test-helpers';

const { assertClose } = kernelComparison({ absoluteFloor: 1e-5, actualName: 'fused' });

type DenseFn = (x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | null) => tf.Tensor;

/** y and the gradients of sum(y * w) in x, kernel and bias (when there is one). */
function valueAndGradients(batch: number, inputs: number, units: number, withBias: boolean, seed: number, f: DenseFn): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor(randomValues(batch * inputs, seed), [batch, inputs]);
    const kernel = tf.tensor(randomValues(inputs * units, seed + 1), [inputs, units]);
    const bias = tf.tensor(randomValues(units, seed + 2), [units]);
    const w = tf.tensor(randomValues(batch * units, seed + 3), [batch, units]);
    const args = withBias ? [x, kernel, bias] : [x, kernel];
    const y = f(x, kernel, withBias ? bias : null);
    const grads = tf.grads((...p: tf.Tensor[]) => tf.sum(tf.mul(f(p[0], p[1], p[2] ?? null), w)))(args);
    return [y, ...grads].map((t) => Float32Array.from(t.dataSync()));
  });
}

const standard = (activation: 'relu' | 'linear'): DenseFn => (x, kernel, bias) => {
  const z = bias ? tf.add(tf.matMul(x, kernel), bias) : tf.matMul(x, kernel);
  return activation === 'relu' ? tf.relu(z) : z;
};

/** The kernels a training step of f runs (forward and backward). */
function kernelsOfStep(f: () => tf.Scalar, variables: tf.Variable[]): Promise<string[]> {
  return tf.profile(() => tf.variableGrads(f, variables).value).then((info) => info.kernels.map((k) => k.name));
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
      for (const activation of ['relu', 'linear'] as const) {
        for (const withBias of [true, false]) {
          const label = `${activation} ${batch}x${inputs}x${units}${withBias ? ' + bias' : ''}`;
          await tf.setBackend('cpu');
          const expected = valueAndGradients(batch, inputs, units, withBias, seed, standard(activation));
          await tf.setBackend('wasm');
          const actual = valueAndGradients(batch, inputs, units, withBias, seed, (x, k, b) => dense(x, k, b, activation)!);
          assert.equal(actual.length, expected.length);
          ['y', 'dx', 'dkernel', 'dbias'].slice(0, actual.length).forEach((name, i) => assertClose(actual[i], expected[i], `${name} ${label}`));
          seed += 10;
        }
      }
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
    const [batch, inputs] = [16, 12];
    const run = async (backendName: 'cpu' | 'wasm', fused: boolean) => {
      await tf.setBackend(backendName);
      const layers = fused
        ? [new LayerFactory(3, 'relu').dense('block0', 'dense', 8, 'act'), new LayerFactory(3, 'relu').dense('head', 'dense', 4, 'linear')]
        : [tf.layers.dense({ name: 'block0_dense', units: 8, activation: 'relu' }), tf.layers.dense({ name: 'head_dense', units: 4 })];
      const input = tf.input({ shape: [inputs] });
      const model = tf.model({ inputs: input, outputs: layers.reduce<tf.SymbolicTensor>((h, l) => l.apply(h) as tf.SymbolicTensor, input) });
      // The same weights on both sides, whatever the initialisers drew.
      model.trainableWeights.forEach((w, i) => {
        const shape = w.shape as number[];
        w.write(tf.tensor(randomValues(shape.reduce((a, b) => a * b, 1), 50 + i), shape));
      });
      const x = tf.tensor(randomValues(batch * inputs, 70), [batch, inputs]);
      const loss = () => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar;
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(loss, variables);
      const values = [value, ...variables.map((v) => grads[v.name])].map((g) => Float32Array.from(g.dataSync()));
      const kernels = await kernelsOfStep(loss, variables);
      // The factory seeds its initialisers; the rest of the config is the standard layer's.
      const described = layers.map((layer) => {
        const { kernelInitializer: _k, ...config } = layer.getConfig();
        return { className: layer.getClassName(), config };
      });
      model.dispose();
      return { values, kernels, described };
    };
    const expected = await run('cpu', false);
    const onCpu = await run('cpu', true); // no fused kernel: the standard path
    onCpu.values.forEach((values, i) => assertClose(values, expected.values[i], `cpu output ${i}`));
    const actual = await run('wasm', true);
    actual.values.forEach((values, i) => assertClose(values, expected.values[i], `fused output ${i}`));
    assert.deepEqual(actual.described, expected.described);
    assert.equal(actual.kernels.filter((k) => k === DENSE).length, 2, actual.kernels.join());
    for (const unfused of ['Relu', '_FusedMatMul']) assert.ok(!actual.kernels.includes(unfused), `${unfused} in ${actual.kernels.join()}`);
    assert.ok(expected.kernels.includes('Relu'), 'TF.js splits the ReLU layer in training');
  });
});
