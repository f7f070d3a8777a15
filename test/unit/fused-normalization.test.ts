// Checks the fused normalization ops (server/engine/kernels/fused-normalization.ts, the
// GowideBatchNormTrain and GowideLayerNorm kernels of gowide_elementwise.c) and the layers that use
// them (server/models/normalization-layers.ts) on wasm against tf.layers' BatchNormalization and
// LayerNormalization and TF.js ops on the pure-JS cpu backend, on random inputs: y, BatchNorm's
// moving statistics, the gradients of x, gamma and beta, and gradients that also flow through the
// batch's mean and variance.
//
// Without the addon the tests are skipped with the reason, unless GOWIDE_REQUIRE_NATIVE=1 (CI).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { batchNormTraining } from '../../server/engine/kernels/fused-normalization';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, LAYER_NORM, LAYER_NORM_GRAD } from '../../server/engine/native/elementwise-kernels';
import { FusedLayerNormalization, FusedTrainingBatchNormalization } from '../../server/models/normalization-layers';
import { countAddonCalls, kernelComparison, nativeWasmBackend, randomValues, skipWithoutNative } from './kernel-test-helpers';
import { restoringEnv } from './env';

const { assertClose } = kernelComparison({ absoluteFloor: 1e-5, actualName: 'fused' });

/** x shapes: NHWC with 8 and 16 channels, dense [batch, 33], a channel count that is not a multiple of 8. */
const SHAPES = [[16, 6, 6, 8], [4, 7, 7, 16], [64, 33], [5, 3, 3, 3]];
const EPSILON = 1e-5;
const MOMENTUM = 0.9;

interface Result {
  y: Float32Array;
  movingMean: Float32Array;
  movingVariance: Float32Array;
  dx: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
}

type Kind = 'batch' | 'layer';

function makeLayer(kind: Kind, fused: boolean): tf.layers.Layer {
  if (kind === 'layer') return fused ? new FusedLayerNormalization({ epsilon: EPSILON }) : tf.layers.layerNormalization({ epsilon: EPSILON });
  const args = { momentum: MOMENTUM, epsilon: EPSILON };
  return fused ? new FusedTrainingBatchNormalization(args) : tf.layers.batchNormalization(args);
}

/** One training-mode call of a normalization layer with fixed weights, and the gradients of sum(y * w). */
async function layerOn(backend: 'cpu' | 'wasm', fused: boolean, shape: number[], seed: number, kind: Kind = 'batch'): Promise<Result> {
  await tf.setBackend(backend);
  const channels = shape[shape.length - 1];
  const size = shape.reduce((a, b) => a * b, 1);
  const layer = makeLayer(kind, fused);
  layer.build(shape);
  // Activations far from 0 (the variance must not cancel), gamma around 1, beta around 0;
  // BatchNorm's moving mean and variance.
  const weights = [randomValues(channels, seed + 1).map((v) => 1 + 0.5 * v), randomValues(channels, seed + 2), randomValues(channels, seed + 3), randomValues(channels, seed + 4).map((v) => 1.5 + v)];
  layer.setWeights(weights.slice(0, kind === 'batch' ? 4 : 2).map((values) => tf.tensor1d(values)));
  const x = tf.variable(tf.tensor(randomValues(size, seed).map((v, i) => 3 * v + 5 + (i % channels)), shape));
  const w = tf.tensor(randomValues(size, seed + 5), shape);
  let y: tf.Tensor | null = null;
  const [gamma, beta] = layer.trainableWeights.map((v) => v.read() as tf.Variable);
  const { grads } = tf.variableGrads(() => {
    y = layer.apply(x, { training: true }) as tf.Tensor;
    return tf.sum(tf.mul(tf.keep(y), w)) as tf.Scalar;
  }, [x, gamma, beta]);
  const [movingMean, movingVariance] = kind === 'batch' ? layer.getWeights().slice(2) : [tf.scalar(0), tf.scalar(0)];
  const result = {
    y: Float32Array.from(y!.dataSync()),
    movingMean: Float32Array.from(movingMean.dataSync()),
    movingVariance: Float32Array.from(movingVariance.dataSync()),
    dx: Float32Array.from(grads[x.name].dataSync()),
    dgamma: Float32Array.from(grads[gamma.name].dataSync()),
    dbeta: Float32Array.from(grads[beta.name].dataSync()),
  };
  tf.dispose([x, w, y!, ...Object.values(grads), ...(kind === 'layer' ? [movingMean, movingVariance] : [])]);
  layer.weights.forEach((weight) => weight.dispose()); // (Layer.dispose wants a layer used in a model)
  return result;
}

describe('fused BatchNorm training on wasm', () => {
  let reason: string | null = 'not run';

  before(async () => {
    reason = await nativeWasmBackend([BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, LAYER_NORM, LAYER_NORM_GRAD]);
  });

  for (const [index, shape] of SHAPES.entries()) {
    it(`the layer matches tf.layers' BatchNormalization on cpu for x ${JSON.stringify(shape)}`, async (t) => {
      if (skipWithoutNative(t, reason)) return;
      const expected = await layerOn('cpu', false, shape, 10 * index + 1);
      let actual: Result | null = null;
      const calls = await countAddonCalls(['batchNormTrain', 'batchNormTrainGrad'], async () => {
        actual = await layerOn('wasm', true, shape, 10 * index + 1);
      });
      assert.deepEqual(calls, { batchNormTrain: 1, batchNormTrainGrad: 1 }, 'the fused kernels ran');
      for (const key of Object.keys(expected) as Array<keyof Result>) assertClose(actual![key], expected[key], key, 2e-4);
    });
  }

  it('the layer matches cpu over rows of 8-32 channels in vector registers and of 12 and 40 in wide rows, on 1-3 threads', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    await restoringEnv(['GOWIDE_POOL_THREADS'], async () => {
      for (const [index, shape] of [[7, 5, 3, 24], [9, 4, 5, 32], [5, 3, 7, 8], [33, 20, 20, 16], [7, 5, 3, 12], [9, 4, 5, 40]].entries()) {
        const expected = await layerOn('cpu', false, shape, 300 + 10 * index);
        for (const threads of ['1', '2', '3']) {
          process.env.GOWIDE_POOL_THREADS = threads;
          const actual = await layerOn('wasm', true, shape, 300 + 10 * index);
          for (const key of Object.keys(expected) as Array<keyof Result>) {
            assertClose(actual[key], expected[key], `${key} ${JSON.stringify(shape)} threads ${threads}`, 2e-4);
          }
        }
      }
    });
  });

  // The last two: 2^14+ values, so the rows split over the pool's threads.
  for (const [index, shape] of [[8, 6, 32], [4, 5, 7, 48], [16, 33], [3, 2, 5], [131, 7, 32], [97, 9, 20]].entries()) {
    it(`the layer norm matches tf.layers' LayerNormalization on cpu for x ${JSON.stringify(shape)}`, async (t) => {
      if (skipWithoutNative(t, reason)) return;
      const expected = await layerOn('cpu', false, shape, 10 * index + 7, 'layer');
      let actual: Result | null = null;
      const calls = await countAddonCalls(['layerNorm', 'layerNormGrad'], async () => {
        actual = await layerOn('wasm', true, shape, 10 * index + 7, 'layer');
      });
      assert.deepEqual(calls, { layerNorm: 1, layerNormGrad: 1 }, 'the fused kernels ran');
      for (const key of Object.keys(expected) as Array<keyof Result>) assertClose(actual![key], expected[key], key, 2e-4);
    });
  }

  it('is the standard layer off wasm and in inference (no fused kernels run), by class name too', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    const calls = await countAddonCalls(['batchNormTrain', 'batchNormTrainGrad'], async () => {
      const cpu = await layerOn('cpu', true, SHAPES[0], 3);
      const reference = await layerOn('cpu', false, SHAPES[0], 3);
      assertClose(cpu.dx, reference.dx, 'dx on cpu', 1e-6);
      await tf.setBackend('wasm');
      const layer = new FusedTrainingBatchNormalization({ momentum: MOMENTUM, epsilon: EPSILON });
      // Serialized as the standard layer: exported models load without gowide.
      assert.equal(layer.getClassName(), 'BatchNormalization');
      tf.tidy(() => layer.apply(tf.ones([2, 3, 3, 4]), { training: false }) as tf.Tensor);
      layer.weights.forEach((weight) => weight.dispose());
    });
    assert.deepEqual(calls, { batchNormTrain: 0, batchNormTrainGrad: 0 });
  });

  it('differentiates through the batch mean and variance too (as tf.moments + tf.batchNorm)', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    const shape = [6, 5, 5, 12];
    const size = shape.reduce((a, b) => a * b, 1);
    const host = {
      x: randomValues(size, 70).map((v) => 2 * v + 1),
      scale: randomValues(12, 71).map((v) => 1 + 0.5 * v),
      offset: randomValues(12, 72),
      w: randomValues(size, 73),
      a: randomValues(12, 74),
      b: randomValues(12, 75),
    };
    const gradients = async (backend: 'cpu' | 'wasm') => {
      await tf.setBackend(backend);
      const x = tf.tensor(host.x, shape);
      const [scale, offset, a, b] = [host.scale, host.offset, host.a, host.b].map((values) => tf.tensor1d(values));
      const w = tf.tensor(host.w, shape);
      const before = tf.memory().numTensors;
      const f = (xs: tf.Tensor, g: tf.Tensor, o: tf.Tensor) => {
        const fused = backend === 'wasm' ? batchNormTraining(xs, g, o, EPSILON) : null;
        const moments = fused ?? (() => {
          const { mean, variance } = tf.moments(xs, [0, 1, 2]);
          return { y: tf.batchNorm(xs, mean, variance, o, g, EPSILON), mean, variance };
        })();
        if (backend === 'wasm') assert.ok(fused != null, 'the fused op ran');
        return tf.addN([tf.sum(tf.mul(moments.y, w)), tf.sum(tf.mul(moments.mean, a)), tf.sum(tf.mul(moments.variance, b))]) as tf.Scalar;
      };
      const values = tf.tidy(() => tf.grads(f)([x, scale, offset]).map((g) => Float32Array.from(g.dataSync())));
      assert.equal(tf.memory().numTensors, before, 'tensor leak');
      tf.dispose([x, scale, offset, a, b, w]);
      return values;
    };
    const expected = await gradients('cpu');
    const actual = await gradients('wasm');
    ['dx', 'dscale', 'doffset'].forEach((label, i) => assertClose(actual[i], expected[i], label, 2e-4));
  });
});
