// Checks the residual add fused with the LayerNorm after it (GowideAddLayerNorm and its gradient,
// server/engine/kernels/fused-normalization.ts addLayerNorm, FusedLayerNormalization.applyToSum,
// used by the post-LN transformer's blocks) on wasm against tf.add then tf.layers'
// LayerNormalization on the pure-JS cpu backend: values and the gradients of both inputs, gamma
// and beta; a whole transformer's loss and weight gradients against cpu; and that where the fused
// op cannot run (cpu, an unbuilt layer) applyToSum declines.
//
// Without the addon the tests are skipped with the reason, unless GOWIDE_REQUIRE_NATIVE=1 (CI).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ADD_LAYER_NORM, ADD_LAYER_NORM_GRAD } from '../../server/engine/native/elementwise-kernels';
import { buildNet } from '../../server/models';
import { FusedLayerNormalization } from '../../server/models/normalization-layers';
import { countAddonCalls, kernelComparison, nativeWasmBackend, randomValues, skipWithoutNative } from './kernel-test-helpers';
import { modelConfig, netSpec } from './models-helpers';
import { restoringEnv } from './env';

const { assertClose } = kernelComparison({ absoluteFloor: 1e-5, actualName: 'fused' });
const EPSILON = 1e-5;

/** LayerNorm(a + b) and the gradients of sum(y * w) in a, b, gamma and beta; fused or Add then the standard layer. */
async function addNormOn(backend: 'cpu' | 'wasm', fused: boolean, shape: number[], seed: number): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const columns = shape[shape.length - 1];
  const size = shape.reduce((x, y) => x * y, 1);
  const layer = fused ? new FusedLayerNormalization({ epsilon: EPSILON }) : tf.layers.layerNormalization({ epsilon: EPSILON });
  layer.build(shape);
  layer.setWeights([randomValues(columns, seed + 1).map((v) => 1 + 0.5 * v), randomValues(columns, seed + 2)].map((values) => tf.tensor1d(values)));
  const [a, b] = [0, 3].map((i) => tf.variable(tf.tensor(randomValues(size, seed + i).map((v, j) => 2 * v + (j % 5)), shape)));
  const w = tf.tensor(randomValues(size, seed + 5), shape);
  const [gamma, beta] = layer.trainableWeights.map((v) => v.read() as tf.Variable);
  const apply = () => (fused ? (layer as FusedLayerNormalization).applyToSum(a, b)! : (layer.apply(tf.add(a, b)) as tf.Tensor));
  let y: tf.Tensor | null = null;
  const { grads } = tf.variableGrads(() => {
    y = tf.keep(apply());
    return tf.sum(tf.mul(y, w)) as tf.Scalar;
  }, [a, b, gamma, beta]);
  const result = [y!, ...[a, b, gamma, beta].map((v) => grads[v.name])].map((t) => Float32Array.from(t.dataSync()));
  tf.dispose([a, b, w, y!, ...Object.values(grads)]);
  layer.weights.forEach((weight) => weight.dispose());
  return result;
}

describe('fused residual add + LayerNorm', () => {
  let reason: string | null = 'not run';
  before(async () => {
    reason = await nativeWasmBackend([ADD_LAYER_NORM, ADD_LAYER_NORM_GRAD]);
  });

  it('matches tf.add then LayerNormalization on cpu (values, gradients of a, b, gamma, beta)', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    let seed = 1;
    for (const shape of [[6, 5, 32], [4, 33], [3, 7, 128]]) {
      const expected = await addNormOn('cpu', false, shape, seed);
      const calls = await countAddonCalls(['addLayerNorm', 'addLayerNormGrad'], async () => {
        const actual = await addNormOn('wasm', true, shape, seed);
        ['y', 'da', 'db', 'dgamma', 'dbeta'].forEach((label, i) => assertClose(actual[i], expected[i], `${label} ${JSON.stringify(shape)}`, 2e-4));
      });
      assert.deepEqual(calls, { addLayerNorm: 1, addLayerNormGrad: 1 });
      seed += 10;
    }
  });

  it('matches cpu with its rows split over 2 and 3 threads (2^14+ values; rows of 32 and of 20)', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    let seed = 500;
    await restoringEnv(['GOWIDE_POOL_THREADS'], async () => {
      for (const shape of [[131, 7, 32], [97, 9, 20]]) {
        const expected = await addNormOn('cpu', false, shape, seed);
        for (const threads of ['2', '3']) {
          process.env.GOWIDE_POOL_THREADS = threads;
          const actual = await addNormOn('wasm', true, shape, seed);
          ['y', 'da', 'db', 'dgamma', 'dbeta'].forEach((label, i) => assertClose(actual[i], expected[i], `${label} ${JSON.stringify(shape)} threads ${threads}`, 2e-4));
        }
        seed += 10;
      }
    });
  });

  it('declines where it cannot run: on cpu, and before the layer is built', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    await tf.setBackend('wasm');
    const [a, b] = [tf.ones([2, 4]), tf.ones([2, 4])];
    assert.equal(new FusedLayerNormalization({ epsilon: EPSILON }).applyToSum(a, b), null);
    tf.dispose([a, b]);
    await tf.setBackend('cpu');
    const layer = new FusedLayerNormalization({ epsilon: EPSILON });
    layer.build([2, 4]);
    const [c, d] = [tf.ones([2, 4]), tf.ones([2, 4])];
    assert.equal(layer.applyToSum(c, d), null);
    tf.dispose([c, d]);
    layer.weights.forEach((weight) => weight.dispose());
  });

  it('a transformer trains through it on wasm with the loss and weight gradients of cpu', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    const spec = netSpec(modelConfig({ family: 'transformer', depth: 2, width: 16, heads: 2 }), { exampleShape: [9], numClasses: 3, vocabSize: 13 }, { factor: 2 });
    const tokens = Array.from(randomValues(4 * 9, 3), (v) => Math.floor((v + 1) * 6.5));
    const labels = Array.from(randomValues(4, 4), (v) => Math.floor((v + 1) * 1.5));
    const run = async (backend: 'cpu' | 'wasm') => {
      await tf.setBackend(backend);
      const net = buildNet(spec);
      const variables = [...net.namedVariables().values()].filter((v) => v.trainable);
      const values = tf.tidy(() => {
        const x = tf.tensor2d(tokens, [4, 9], 'int32');
        const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, net.forward(x, true)) as tf.Scalar, variables);
        return [value, ...variables.map((v) => grads[v.name])].map((g) => Float32Array.from(g.dataSync()));
      });
      net.dispose();
      return values;
    };
    const expected = await run('cpu');
    const calls = await countAddonCalls(['addLayerNorm', 'addLayerNormGrad'], async () => {
      const actual = await run('wasm');
      actual.forEach((values, i) => assertClose(values, expected[i], `output ${i}`, 2e-3));
    });
    assert.deepEqual(calls, { addLayerNorm: 4, addLayerNormGrad: 4 }); // two per block
  });
});
