// Checks the fused attention core (server/engine/kernels/attention.ts: GowideAttention and
// GowideAttentionGrad of gowide_attention.c) on wasm against TF.js's ops on the pure-JS cpu
// backend (heads split by transposes, batched products, softmax), values and the gradients of q,
// k and v, on random inputs whose sizes take the vectorized tiles and the plain loops; that
// server/models' MultiHeadSelfAttention runs it and matches cpu, values and weight gradients; and
// that elsewhere (cpu, or the kernels unregistered) it falls back to TF.js's ops.
//
// Without the addon the tests are skipped with the reason, unless GOWIDE_REQUIRE_NATIVE=1 (CI).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { fusedAttention } from '../../server/engine/kernels/attention';
import { ATTENTION, ATTENTION_GRAD, registerAttentionKernels, unregisterAttentionKernels } from '../../server/engine/native/attention-kernels';
import { loadBlasAddon } from '../../server/engine/native/blas-kernels';
import { MultiHeadSelfAttention } from '../../server/models/transformer-layers';
import { countAddonCalls, kernelComparison, nativeWasmBackend, randomValues, skipWithoutNative } from './kernel-test-helpers';

const { assertClose } = kernelComparison({ absoluteFloor: 1e-6, actualName: 'fused' });

/** softmax(scale * q k^T) v per head, as TF.js ops (MultiHeadSelfAttention's fallback). */
function attentionByOps(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, heads: number, scale: number): tf.Tensor {
  const [batch, sequence, inner] = q.shape;
  const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [batch, sequence, heads, inner / heads]), [0, 2, 1, 3]);
  const context = tf.matMul(tf.softmax(tf.mul(tf.matMul(split(q), split(k), false, true), scale)), split(v));
  return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch, sequence, inner]);
}

type Attend = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.Tensor;

/** The context and the gradients of sum(context * w) in q, k and v. */
function contextAndGradients(shape: number[], seed: number, attend: Attend): Float32Array[] {
  return tf.tidy(() => {
    const size = shape.reduce((a, b) => a * b, 1);
    const [q, k, v, w] = [0, 1, 2, 3].map((i) => tf.tensor(randomValues(size, seed + i).map((x) => 2 * x), shape));
    const context = attend(q, k, v);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(attend(a, b, c), w)))([q, k, v]);
    return [context, ...grads].map((t) => Float32Array.from(t.dataSync()));
  });
}

describe('fused attention', () => {
  let reason: string | null = 'not run';
  before(async () => {
    reason = await nativeWasmBackend([ATTENTION, ATTENTION_GRAD]);
  });

  it('GowideAttention and its gradient match TF.js ops on cpu (tiles of 4 x 16 and odd sizes)', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    // [batch, sequence, heads * headDim], heads
    const cases: Array<[number[], number]> = [[[3, 32, 32], 2], [[2, 16, 128], 8], [[2, 7, 15], 3], [[1, 5, 4], 1], [[2, 12, 48], 2]];
    let seed = 1;
    for (const [shape, heads] of cases) {
      const scale = 1 / Math.sqrt(shape[2] / heads);
      await tf.setBackend('cpu');
      const expected = contextAndGradients(shape, seed, (q, k, v) => attentionByOps(q, k, v, heads, scale));
      await tf.setBackend('wasm');
      const calls = await countAddonCalls(['attention', 'attentionGrad'], () => {
        const actual = contextAndGradients(shape, seed, (q, k, v) => fusedAttention(q, k, v, heads, scale)!);
        ['context', 'dq', 'dk', 'dv'].forEach((label, i) => assertClose(actual[i], expected[i], `${label} ${JSON.stringify(shape)} heads ${heads}`));
      });
      assert.deepEqual(calls, { attention: 2, attentionGrad: 1 }); // the context twice (the gradient's forward pass), the gradient once
      seed += 10;
    }
  });

  it('MultiHeadSelfAttention runs it on wasm and matches cpu; cpu and the unregistered kernels take TF.js ops', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    const shape = [4, 32, 32];
    const input = randomValues(shape.reduce((a, b) => a * b, 1), 77);
    const run = async (backendName: 'cpu' | 'wasm') => {
      await tf.setBackend(backendName);
      const layer = new MultiHeadSelfAttention({ name: 'block0_attention', heads: 2, headDim: 16, seed: 5 });
      const x = tf.tensor(input, shape);
      layer.apply(x); // builds the weights (seeded: the same on both backends)
      const values = tf.tidy(() => {
        const f = () => tf.sum(tf.square(layer.apply(x) as tf.Tensor)) as tf.Scalar;
        const { value, grads } = tf.variableGrads(f, layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
        return [Float32Array.from(value.dataSync()), ...Object.values(grads).map((g) => Float32Array.from(g.dataSync()))];
      });
      layer.dispose();
      x.dispose();
      return values;
    };
    const expected = await run('cpu');
    assert.equal(fusedAttention(tf.zeros([1, 2, 4]), tf.zeros([1, 2, 4]), tf.zeros([1, 2, 4]), 2, 1), null); // cpu: no fused kernels
    const compare = (actual: Float32Array[], label: string) => {
      assert.equal(actual.length, expected.length);
      actual.forEach((values, i) => assertClose(values, expected[i], `${label} output ${i}`, 2e-4));
    };
    const calls = await countAddonCalls(['attention', 'attentionGrad'], async () => compare(await run('wasm'), 'fused'));
    assert.ok(calls.attention > 0 && calls.attentionGrad === 1, JSON.stringify(calls));
    unregisterAttentionKernels();
    try {
      assert.equal(fusedAttention(tf.zeros([1, 2, 4]), tf.zeros([1, 2, 4]), tf.zeros([1, 2, 4]), 2, 1), null);
      compare(await run('wasm'), 'unregistered');
    } finally {
      const load = loadBlasAddon();
      if (load.ok) registerAttentionKernels(load.addon, load.path);
    }
  });
});
