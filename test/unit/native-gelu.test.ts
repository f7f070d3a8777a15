// Checks the fused GELU (server/engine/kernels/gelu.ts, the GowideGelu and GowideGeluGrad kernels
// of gowide_elementwise.c) on wasm against tf.layers' 'gelu' formula on the pure-JS cpu backend,
// on random inputs of odd sizes (values and gradients), that a Dense layer built with 'gelu' by
// server/models' LayerFactory runs the fused kernels, and that elsewhere the activation falls back
// to TF.js's ops with the same values.
//
// Without the addon the tests are skipped with the reason, unless GOWIDE_REQUIRE_NATIVE=1 (CI).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { fusedGelu, registerGeluActivation } from '../../server/engine/kernels/gelu';
import { GELU, GELU_GRAD } from '../../server/engine/native/elementwise-kernels';
import { LayerFactory } from '../../server/models/layer-factory';
import { countAddonCalls, kernelComparison, nativeWasmBackend, randomValues, skipWithoutNative } from './kernel-test-helpers';

const { assertClose } = kernelComparison({ absoluteFloor: 1e-6, actualName: 'fused' });

/** tf.layers' GELU formula (its Gelu activation), as TF.js ops. */
const reference = (x: tf.Tensor): tf.Tensor => tf.mul(x, tf.mul(0.5, tf.add(1, tf.erf(tf.div(x, Math.sqrt(2))))));

/** GELU and the gradient of sum(gelu(x) * w) on the current backend. */
function geluAndGradient(values: Float32Array, shape: number[], weights: Float32Array, gelu: (x: tf.Tensor) => tf.Tensor) {
  return tf.tidy(() => {
    const x = tf.tensor(values, shape);
    const w = tf.tensor(weights, shape);
    const y = gelu(x);
    const dx = tf.grad((v: tf.Tensor) => gelu(v).mul(w).sum())(x);
    return { y: Float32Array.from(y.dataSync()), dx: Float32Array.from(dx.dataSync()) };
  });
}

describe('fused GELU', () => {
  let reason: string | null = 'not run';
  before(async () => {
    reason = await nativeWasmBackend([GELU, GELU_GRAD]);
  });

  it('GowideGelu and its gradient match tf.layers\' formula on cpu (odd sizes, values from -8 to 8)', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    let seed = 1;
    for (const shape of [[1], [7], [3, 33], [128, 65], [2, 5, 9, 3]]) {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = randomValues(size, seed++).map((v) => v * 8);
      const weights = randomValues(size, seed++);
      await tf.setBackend('cpu');
      const expected = geluAndGradient(values, shape, weights, reference);
      await tf.setBackend('wasm');
      const calls = await countAddonCalls(['unary', 'erfGrad'], () => {
        const actual = geluAndGradient(values, shape, weights, (x) => fusedGelu(x)!);
        assertClose(actual.y, expected.y, `gelu ${JSON.stringify(shape)}`);
        assertClose(actual.dx, expected.dx, `gelu gradient ${JSON.stringify(shape)}`);
      });
      assert.deepEqual(calls, { unary: 2, erfGrad: 1 }); // y twice (the gradient's forward pass), dx once
    }
  });

  it('a LayerFactory Dense with gelu runs the fused kernels on wasm and matches cpu, where it falls back to TF.js ops', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    registerGeluActivation();
    const input = randomValues(9 * 20, 50);
    const run = async (backendName: 'cpu' | 'wasm') => {
      await tf.setBackend(backendName);
      const layer = new LayerFactory(3, 'gelu').dense('ffn', 'up', 24, 'act');
      const x = tf.tensor2d(input, [9, 20]);
      layer.apply(x); // builds the weights (seeded: the same on both backends)
      const values = tf.tidy(() => {
        const f = () => (layer.apply(x) as tf.Tensor).square().sum() as tf.Scalar;
        const { value, grads } = tf.variableGrads(f, layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
        return [Float32Array.from(value.dataSync()), ...Object.values(grads).map((g) => Float32Array.from(g.dataSync()))];
      });
      const config = layer.getConfig();
      layer.dispose();
      x.dispose();
      return { values, activation: config.activation };
    };
    const expected = await run('cpu');
    assert.equal(fusedGelu(tf.zeros([2])), null); // cpu: no fused kernels
    const calls = await countAddonCalls(['unary', 'erfGrad'], async () => {
      const actual = await run('wasm');
      assert.equal(actual.values.length, expected.values.length);
      actual.values.forEach((v, i) => assertClose(v, expected.values[i], `dense gelu output ${i}`));
      assert.equal(actual.activation, 'gelu');
    });
    assert.ok(calls.unary >= 1 && calls.erfGrad === 1, JSON.stringify(calls));
  });
});
