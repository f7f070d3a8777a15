// Checks the residual add fused with its ReLU (server/engine/kernels/add-relu.ts: GowideAddRelu,
// and GowideReluGrad of its output backwards; built by LayerFactory.addActivation for an Add whose
// only consumer is a ReLU) on wasm against tf.add then tf.relu on the pure-JS cpu backend: values
// and the gradients of both inputs, as an op and as layers inside a tf.model; the standard class
// names and configs; and TF.js's kernels where the fused op cannot run.
//
// Without the addon the tests are skipped with the reason, unless GOWIDE_REQUIRE_NATIVE=1 (CI).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { addRelu } from '../../server/engine/kernels/add-relu';
import { ADD_RELU, RELU_GRAD } from '../../server/engine/native/elementwise-kernels';
import { LayerFactory } from '../../server/models/layer-factory';
import { countAddonCalls, kernelComparison, nativeWasmBackend, randomValues, skipWithoutNative } from './kernel-test-helpers';

const { assertClose } = kernelComparison({ absoluteFloor: 1e-6, actualName: 'fused' });

/** y and the gradients of sum(y * w) in a and b, y = f(a, b). */
function valueAndGradients(shape: number[], seed: number, f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const size = shape.reduce((x, y) => x * y, 1);
    const [a, b, w] = [0, 1, 2].map((i) => tf.tensor(randomValues(size, seed + i), shape));
    const y = f(a, b);
    const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(f(p, q), w)))([a, b]);
    return [y, ...grads].map((t) => Float32Array.from(t.dataSync()));
  });
}

describe('fused add + ReLU', () => {
  let reason: string | null = 'not run';
  before(async () => {
    reason = await nativeWasmBackend([ADD_RELU, RELU_GRAD]);
  });

  it('GowideAddRelu and its gradient match tf.relu(tf.add) on cpu', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    let seed = 1;
    for (const shape of [[1], [33], [8, 7, 7, 16], [3, 5, 9]]) {
      await tf.setBackend('cpu');
      const expected = valueAndGradients(shape, seed, (a, b) => tf.relu(tf.add(a, b)));
      await tf.setBackend('wasm');
      const calls = await countAddonCalls(['binary'], () => {
        const actual = valueAndGradients(shape, seed, (a, b) => addRelu(a, b)!);
        ['y', 'da', 'db'].forEach((label, i) => assertClose(actual[i], expected[i], `${label} ${JSON.stringify(shape)}`));
      });
      // y twice (the gradient's forward pass), the ReLU's gradient (and the products with w and
      // their gradient's, from 4096 values: smaller ones stay in the wasm kernel)
      assert.equal(calls.binary, shape.reduce((x, y) => x * y, 1) >= 4096 ? 5 : 3);
      seed += 10;
    }
    assert.equal(addRelu(tf.zeros([2, 3]), tf.zeros([3])), null); // broadcasting: not fused
  });

  it('LayerFactory.addActivation in a tf.model matches the standard layers on cpu; same class names and configs', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    const shape = [6, 5, 5, 8];
    const run = async (backendName: 'cpu' | 'wasm', fused: boolean) => {
      await tf.setBackend(backendName);
      const { add, act } = fused
        ? new LayerFactory(1, 'relu').addActivation('block0', 'add', 'act')
        : { add: tf.layers.add({ name: 'block0_add' }), act: tf.layers.activation({ name: 'block0_act', activation: 'relu' }) };
      const [left, right] = [tf.input({ shape: shape.slice(1) }), tf.input({ shape: shape.slice(1) })];
      const model = tf.model({ inputs: [left, right], outputs: act.apply(add.apply([left, right])) as tf.SymbolicTensor });
      const values = valueAndGradients(shape, 40, (a, b) => model.apply([a, b], { training: true }) as tf.Tensor);
      const described = [add, act].map((layer) => ({ className: layer.getClassName(), config: layer.getConfig() }));
      model.dispose();
      return { values, described };
    };
    const expected = await run('cpu', false);
    const onCpu = await run('cpu', true); // no fused kernels: the standard path
    onCpu.values.forEach((values, i) => assertClose(values, expected.values[i], `cpu output ${i}`));
    const calls = await countAddonCalls(['binary'], async () => {
      const actual = await run('wasm', true);
      actual.values.forEach((values, i) => assertClose(values, expected.values[i], `fused output ${i}`));
      assert.deepEqual(actual.described, expected.described);
    });
    assert.ok(calls.binary >= 3, JSON.stringify(calls));
  });
});
