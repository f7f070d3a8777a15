// Checks BatchNorm + ReLU fused in training (GowideBatchNormReluTrain and its gradient, built by
// LayerFactory.batchNormActivation for a BatchNorm whose only consumer is a ReLU) on wasm against
// tf.layers' BatchNormalization then Activation('relu') on the pure-JS cpu backend: y, the moving
// statistics, and the gradients of x, gamma and beta; inside a tf.model too (the path training
// takes), and the standard layers' class names and configs.
//
// Without the addon the tests are skipped with the reason, unless GOWIDE_REQUIRE_NATIVE=1 (CI).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_RELU_TRAIN, BATCH_NORM_RELU_TRAIN_GRAD } from '../../server/engine/native/elementwise-kernels';
import { LayerFactory } from '../../server/models/layer-factory';
import { countAddonCalls, kernelComparison, nativeWasmBackend, randomValues, skipWithoutNative } from './kernel-test-helpers';
import { restoringEnv } from './env';

const { assertClose } = kernelComparison({ absoluteFloor: 1e-5, actualName: 'fused' });

/** NHWC with 8 and 16 channels, dense [batch, 33], 3 channels (not a multiple of 8). */
const SHAPES = [[16, 6, 6, 8], [4, 7, 7, 16], [64, 33], [5, 3, 3, 3]];

/** y, the moving mean and variance, and the gradients of x, gamma and beta, by name. */
type Result = Record<string, Float32Array>;

function assertAllClose(actual: Result, expected: Result, tolerance: number, where = ''): void {
  for (const [key, values] of Object.entries(expected)) assertClose(actual[key], values, `${key}${where}`, tolerance);
}

/** The pair: fused (LayerFactory's, 'relu' model) or the standard layers. */
function makePair(fused: boolean): { bn: tf.layers.Layer; act: tf.layers.Layer } {
  if (fused) return new LayerFactory(1, 'relu').batchNormActivation('p', 'bn', 'act');
  return { bn: tf.layers.batchNormalization({ name: 'p_bn', momentum: 0.9, epsilon: 1e-5 }), act: tf.layers.activation({ name: 'p_act', activation: 'relu' }) };
}

/** One training-mode call of BatchNorm + ReLU with fixed weights (as layers, or in a tf.model), and the gradients of sum(y * w). */
async function pairOn(backend: 'cpu' | 'wasm', fused: boolean, shape: number[], seed: number, inModel = false): Promise<Result> {
  await tf.setBackend(backend);
  const channels = shape[shape.length - 1];
  const size = shape.reduce((a, b) => a * b, 1);
  const { bn, act } = makePair(fused);
  let run: (x: tf.Tensor) => tf.Tensor;
  let model: tf.LayersModel | null = null;
  if (inModel) {
    const input = tf.input({ shape: shape.slice(1) });
    model = tf.model({ inputs: input, outputs: act.apply(bn.apply(input)) as tf.SymbolicTensor });
    run = (x) => model!.apply(x, { training: true }) as tf.Tensor;
  } else {
    bn.build(shape);
    run = (x) => act.apply(bn.apply(x, { training: true }), { training: true }) as tf.Tensor;
  }
  // gamma around 1 (some negative), beta around 0: about half of the outputs below 0.
  const weights = [randomValues(channels, seed + 1).map((v) => 0.5 + v), randomValues(channels, seed + 2), randomValues(channels, seed + 3), randomValues(channels, seed + 4).map((v) => 1.5 + v)];
  bn.setWeights(weights.map((values) => tf.tensor1d(values)));
  const x = tf.variable(tf.tensor(randomValues(size, seed).map((v, i) => 3 * v + 5 + (i % channels)), shape));
  const w = tf.tensor(randomValues(size, seed + 5), shape);
  let y: tf.Tensor | null = null;
  const [gamma, beta] = bn.trainableWeights.map((v) => v.read() as tf.Variable);
  const { grads } = tf.variableGrads(() => {
    y = run(x);
    return tf.sum(tf.mul(tf.keep(y), w)) as tf.Scalar;
  }, [x, gamma, beta]);
  const [movingMean, movingVariance] = bn.getWeights().slice(2);
  const tensors = { y: y!, movingMean, movingVariance, dx: grads[x.name], dgamma: grads[gamma.name], dbeta: grads[beta.name] };
  const result: Result = Object.fromEntries(Object.entries(tensors).map(([key, t]) => [key, Float32Array.from(t.dataSync())]));
  tf.dispose([x, w, y!, ...Object.values(grads)]);
  if (model != null) model.dispose();
  else bn.weights.forEach((weight) => weight.dispose());
  return result;
}

describe('fused BatchNorm + ReLU training on wasm', () => {
  let reason: string | null = 'not run';

  before(async () => {
    reason = await nativeWasmBackend([BATCH_NORM_RELU_TRAIN, BATCH_NORM_RELU_TRAIN_GRAD]);
  });

  const cases = [...SHAPES.map((shape) => ({ shape, inModel: false })), { shape: SHAPES[0], inModel: true }, { shape: SHAPES[3], inModel: true }];
  for (const [index, { shape, inModel }] of cases.entries()) {
    it(`matches BatchNormalization + Activation('relu') on cpu for x ${JSON.stringify(shape)}${inModel ? ' in a tf.model' : ''}`, async (t) => {
      if (skipWithoutNative(t, reason)) return;
      const expected = await pairOn('cpu', false, shape, 10 * index + 1, inModel);
      let actual: Result | null = null;
      const calls = await countAddonCalls(['batchNormReluTrain', 'batchNormReluTrainGrad', 'batchNormTrain'], async () => {
        actual = await pairOn('wasm', true, shape, 10 * index + 1, inModel);
      });
      assert.deepEqual(calls, { batchNormReluTrain: 1, batchNormReluTrainGrad: 1, batchNormTrain: 0 }, 'the fused kernels ran');
      assert.ok(expected.y.some((v) => v === 0) && expected.y.some((v) => v > 0), 'the ReLU cut some values');
      assertAllClose(actual!, expected, 2e-4);
    });
  }

  it('matches cpu split over 1, 2 and 3 threads (GOWIDE_POOL_THREADS; x of 239k values, a partial last wide row)', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    const shape = [41, 27, 27, 8];
    const expected = await pairOn('cpu', false, shape, 90);
    await restoringEnv(['GOWIDE_POOL_THREADS'], async () => {
      for (const threads of ['1', '2', '3']) {
        process.env.GOWIDE_POOL_THREADS = threads;
        assertAllClose(await pairOn('wasm', true, shape, 90), expected, 2e-4, ` on ${threads} threads`);
      }
    });
  });

  it('matches cpu over rows of 8-32 channels in vector registers and of 12 and 40 in wide rows, on 1-3 threads', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    await restoringEnv(['GOWIDE_POOL_THREADS'], async () => {
      // Odd row counts (partial blocks of U rows and of 64), and 16 channels over 211k values (split over threads).
      for (const [index, shape] of [[7, 5, 3, 24], [9, 4, 5, 32], [5, 3, 7, 8], [33, 20, 20, 16], [7, 5, 3, 12], [9, 4, 5, 40]].entries()) {
        const expected = await pairOn('cpu', false, shape, 200 + 10 * index);
        for (const threads of ['1', '2', '3']) {
          process.env.GOWIDE_POOL_THREADS = threads;
          assertAllClose(await pairOn('wasm', true, shape, 200 + 10 * index), expected, 2e-4, ` ${JSON.stringify(shape)} threads ${threads}`);
        }
      }
    });
  });

  it('is the standard pair on cpu and in inference, with the standard class names and configs', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    const fusedCalls = await countAddonCalls(['batchNormReluTrain', 'batchNormReluTrainGrad'], async () => {
      assertAllClose(await pairOn('cpu', true, SHAPES[0], 3), await pairOn('cpu', false, SHAPES[0], 3), 1e-6, ' on cpu');
      await tf.setBackend('wasm');
      const fused = makePair(true);
      const standard = makePair(false);
      for (const key of ['bn', 'act'] as const) {
        assert.equal(fused[key].getClassName(), standard[key].getClassName());
        assert.deepEqual(fused[key].getConfig(), standard[key].getConfig());
      }
      const x = tf.tensor(randomValues(2 * 3 * 3 * 4, 9), [2, 3, 3, 4]);
      const inference = tf.tidy(() => Float32Array.from((fused.act.apply(fused.bn.apply(x, { training: false })) as tf.Tensor).dataSync()));
      assert.ok(inference.every((v) => v >= 0));
      tf.dispose(x);
      fused.bn.weights.forEach((weight) => weight.dispose());
    });
    assert.deepEqual(fusedCalls, { batchNormReluTrain: 0, batchNormReluTrainGrad: 0 });
  });
});
