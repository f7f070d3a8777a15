// Checks the native BLAS kernels (server/engine/native/blas-kernels.ts) registered on the wasm
// backend against the pure-JS cpu backend: BatchMatMul over every transpose combination, batch
// shapes and odd sizes, _FusedMatMul with bias and each activation, and the gradients of a
// tf.layers dense model; large products split over threads; also that a dense layer's forward and
// backward products all reach sgemm.
//
// Without the addon (OpenBLAS or the build step missing) the tests are skipped with the reason,
// unless GOWIDE_REQUIRE_NATIVE=1 (set in CI, where the addon is built): then they fail.
import { before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerMissingWasmKernels } from '../../server/engine/kernels/wasm-gradients';
import { registerNativeBlasKernels } from '../../server/engine/native/blas-kernels';
import {
  countAddonCalls,
  hostFloat,
  kernelComparison,
  layersGradientsOn,
  randomValues,
  skipWithoutNative,
  wasmDist,
} from './kernel-test-helpers';
import type { HostTensor } from './kernel-test-helpers';
import { restoringEnv } from './env';

const { assertClose, compareKernel } = kernelComparison({ absoluteFloor: 1e-7, actualName: 'native' });

/** Shape of an operand holding an rows x columns matrix (or its transpose) per batch entry. */
function operandShape(batchShape: number[], rows: number, columns: number, transposed: boolean): number[] {
  return [...batchShape, ...(transposed ? [columns, rows] : [rows, columns])];
}

/** [m, k, n] products, from degenerate to a dense layer's 128x784 by 784x256. */
const sizes: Array<[number, number, number]> = [
  [1, 1, 1],
  [7, 13, 5],
  [13, 7, 1],
  [1, 9, 7],
  [33, 17, 65],
  [35, 40, 32], // register tiles (16k columns, at most 64 terms), 3 rows left over
  [130, 64, 64],
  [40, 300, 64], // transposed a: tiles of 8 x 32 over 300 terms
  [128, 784, 256],
];

/** Batch shapes of a and b: equal, one side 1 or absent, and a true broadcast (fallback path). */
const batchShapes: Array<[number[], number[]]> = [
  [[], []],
  [[3], [3]],
  [[2, 3], [2, 3]],
  [[4], []],
  [[], [4]],
  [[4], [1]],
  [[1], [3]],
  [[2, 1], [1, 3]],
];

/** Counts the addon's sgemm calls while fn runs. */
async function countSgemmCalls(fn: () => Promise<void> | void): Promise<number> {
  return (await countAddonCalls(['sgemm'], fn)).sgemm;
}

describe('native BLAS kernels on wasm', () => {
  let registration: ReturnType<typeof registerNativeBlasKernels> = { ok: false, reason: 'not run' };

  before(async () => {
    setWasmPaths(wasmDist);
    registerMissingWasmKernels(); // theirs first, then ours: ours must win for BatchMatMul
    registration = registerNativeBlasKernels();
    await tf.setBackend('wasm');
    await tf.ready();
  });

  /** Skips (or, with GOWIDE_REQUIRE_NATIVE=1, fails) when the addon is not available. */
  function skipWithoutAddon(t: TestContext): boolean {
    return skipWithoutNative(t, registration.ok ? null : registration.reason);
  }

  it('registers BatchMatMul and _FusedMatMul over the wasm-gradients kernels, idempotently', (t) => {
    if (skipWithoutAddon(t)) return;
    assert.ok(registration.ok);
    assert.deepEqual(registration.kernels.slice(0, 2), ['BatchMatMul', '_FusedMatMul']); // then the conv kernels (native-conv.test.ts)
    assert.equal(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc.name, 'nativeBatchMatMul');
    assert.equal(tf.getKernel('_FusedMatMul', 'wasm')?.kernelFunc.name, 'nativeFusedMatMul');
    assert.deepEqual(registerNativeBlasKernels(), registration);
    assert.equal(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc.name, 'nativeBatchMatMul');
  });

  it('BatchMatMul matches cpu: every transpose combination, batch shape and size', async (t) => {
    if (skipWithoutAddon(t)) return;
    let seed = 1;
    for (const [m, k, n] of sizes) {
      for (const [batchA, batchB] of batchShapes) {
        if (m * k * n > 1000 && (batchA.length > 1 || batchB.length > 1)) continue; // keep the cpu side quick
        for (const transposeA of [false, true]) {
          for (const transposeB of [false, true]) {
            const label = `a${JSON.stringify(batchA)} b${JSON.stringify(batchB)} ${m}x${k}x${n} tA=${transposeA} tB=${transposeB}`;
            await compareKernel(
              'BatchMatMul',
              {
                a: hostFloat(operandShape(batchA, m, k, transposeA), seed++),
                b: hostFloat(operandShape(batchB, k, n, transposeB), seed++),
              },
              { transposeA, transposeB },
              label,
            );
          }
        }
      }
    }
  });

  it('BatchMatMul split over 2 and 3 threads (GOWIDE_POOL_THREADS) matches cpu: rows or columns, every transpose', async (t) => {
    if (skipWithoutAddon(t)) return;
    let seed = 500;
    await restoringEnv(['GOWIDE_POOL_THREADS'], async () => {
      // 2^22+ multiply-adds: split along out's longer axis (rows, then columns), odd lengths.
      // (the third in register tiles of 8 x 32, a share each)
      for (const [m, k, n] of [[1027, 128, 129], [130, 130, 1001], [1030, 256, 96]]) {
        for (const threads of ['2', '3']) {
          process.env.GOWIDE_POOL_THREADS = threads;
          for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]]) {
            const a = hostFloat(operandShape([], m, k, transposeA), seed++);
            const b = hostFloat(operandShape([], k, n, transposeB), seed++);
            await compareKernel('BatchMatMul', { a, b }, { transposeA, transposeB }, `${m}x${k}x${n} ${threads} threads tA=${transposeA} tB=${transposeB}`);
          }
        }
      }
    });
  });

  it('split products back to back give the same values whether the pool\'s threads spin or sleep between them', async (t) => {
    if (skipWithoutAddon(t)) return;
    await tf.setBackend('wasm');
    // 128 x 256 x 256: a thin MLP's product, split over 2 threads; a lost or late share would leave
    // rows of out unwritten or stale, which differ between the runs.
    const operands = Array.from({ length: 40 }, (_, i) => [tf.tensor2d(randomValues(128 * 256, 900 + i), [128, 256]), tf.tensor2d(randomValues(256 * 256, 950 + i), [256, 256])]);
    const productsWith = (spin: string) =>
      restoringEnv(['GOWIDE_POOL_SPIN_US', 'GOWIDE_POOL_THREADS'], async () => {
        process.env.GOWIDE_POOL_SPIN_US = spin;
        process.env.GOWIDE_POOL_THREADS = '2';
        const products = operands.map(([a, b]) => tf.matMul(a, b));
        const values = await Promise.all(products.map((p) => p.data()));
        tf.dispose(products);
        return values;
      });
    const sleeping = await productsWith('0');
    const spinning = await productsWith('100000');
    spinning.forEach((values, i) => assert.deepEqual(values, sleeping[i], `product ${i}`));
    tf.dispose(operands.flat());
  });

  it('BatchMatMul runs in sgemm, except for broadcasts it leaves to the fallback', async (t) => {
    if (skipWithoutAddon(t)) return;
    await tf.setBackend('wasm');
    const a = tf.tensor(randomValues(2 * 3 * 4, 1), [2, 3, 4]);
    const b = tf.tensor(randomValues(4 * 5, 2), [4, 5]);
    const calls = await countSgemmCalls(() => {
      tf.matMul(a, b).dispose();
      tf.matMul(a, a, false, true).dispose();
      tf.matMul(a, a, true, false).dispose();
    });
    assert.equal(calls, 3);
    const c = tf.tensor(randomValues(2 * 1 * 3 * 4, 3), [2, 1, 3, 4]);
    const d = tf.tensor(randomValues(1 * 3 * 4 * 2, 4), [1, 3, 4, 2]);
    assert.equal(await countSgemmCalls(() => tf.matMul(c, d).dispose()), 0);
    tf.dispose([a, b, c, d]);
  });

  it('_FusedMatMul matches cpu: bias, every activation, transposes, batches', async (t) => {
    if (skipWithoutAddon(t)) return;
    let seed = 1000;
    const activations: Array<[string, Record<string, unknown>]> = [
      ['linear', {}],
      ['relu', {}],
      ['relu6', {}],
      ['leakyrelu', { leakyreluAlpha: 0.1 }],
      ['sigmoid', {}],
      ['elu', {}],
    ];
    for (const [m, k, n] of sizes) {
      for (const [activation, extra] of activations) {
        for (const withBias of [true, false]) {
          for (const [transposeA, transposeB] of [
            [false, false],
            [true, false],
            [false, true],
            [true, true],
          ] as const) {
            const batch = m * k * n > 1000 ? [] : [2];
            const inputs: Record<string, HostTensor> = {
              a: hostFloat(operandShape(batch, m, k, transposeA), seed++),
              b: hostFloat(operandShape(batch, k, n, transposeB), seed++),
            };
            // Values of about 6 so that relu6's clipping is exercised.
            if (withBias) inputs.bias = { values: randomValues(n, seed++).map((v) => v * 6), shape: [n] };
            await compareKernel(
              '_FusedMatMul',
              inputs,
              { transposeA, transposeB, activation, ...extra },
              `${activation} bias=${withBias} ${m}x${k}x${n} tA=${transposeA} tB=${transposeB}`,
            );
          }
        }
      }
    }
  });

  it('_FusedMatMul with prelu falls back to the wasm kernel and still matches cpu', async (t) => {
    if (skipWithoutAddon(t)) return;
    const inputs = {
      a: hostFloat([1, 7, 13], 1),
      b: hostFloat([1, 13, 5], 2),
      bias: hostFloat([5], 3),
      preluActivationWeights: hostFloat([5], 4),
    };
    await compareKernel('_FusedMatMul', inputs, { transposeA: false, transposeB: false, activation: 'prelu' }, 'prelu');
  });

  it('a tf.layers dense model: gradients match cpu, and every product of a training step is an sgemm', async (t) => {
    if (skipWithoutAddon(t)) return;
    const inputSize = 37;
    const batch = 16;
    const buildModel = (): tf.LayersModel => {
      const model = tf.sequential();
      model.add(tf.layers.dense({ inputShape: [inputSize], units: 24, activation: 'relu' }));
      model.add(tf.layers.dense({ units: 24, activation: 'relu' }));
      model.add(tf.layers.dense({ units: 5 }));
      return model;
    };
    const weightValues = buildModel()
      .getWeights()
      .map((w, index) => ({ shape: w.shape, values: randomValues(w.size, 500 + index).map((v) => v * 0.5) }));
    const xValues = randomValues(batch * inputSize, 7);
    const labels = Array.from({ length: batch }, (_, i) => (i * 3) % 5);

    const gradientsOn = (backendName: 'cpu' | 'wasm'): Promise<{ loss: number; grads: Float32Array[] }> =>
      layersGradientsOn(backendName, buildModel, weightValues, xValues, [batch, inputSize], labels, 5);
    const reference = await gradientsOn('cpu');
    const actual = await gradientsOn('wasm');
    assert.ok(Math.abs(actual.loss - reference.loss) <= 1e-4 * Math.abs(reference.loss), `loss ${actual.loss} vs ${reference.loss}`);
    assert.equal(actual.grads.length, 6);
    actual.grads.forEach((grad, index) => assertClose(grad, reference.grads[index], `gradient ${index}`));

    // One training step on wasm: count the products TF.js ran and the sgemm calls they made.
    await tf.setBackend('wasm');
    const model = buildModel();
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    const x = tf.tensor2d(xValues, [batch, inputSize]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 5);
    await model.trainOnBatch(x, y); // warm up (optimizer slots)
    let productKernels = 0;
    const calls = await countSgemmCalls(async () => {
      const profile = await tf.profile(async () => {
        await model.trainOnBatch(x, y);
      });
      productKernels = profile.kernels.filter((k) => k.name === 'BatchMatMul' || k.name === '_FusedMatMul').length;
    });
    // Forward: 3 fused products; backward: dW for 3 layers and dx for the upper 2.
    assert.ok(productKernels >= 8, `expected at least 8 products, profiled ${productKernels}`);
    assert.equal(calls, productKernels, 'every BatchMatMul/_FusedMatMul of the step went to sgemm');
    tf.dispose([x, y]);
    model.dispose();
  });
});
