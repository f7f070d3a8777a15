// Checks the native BLAS kernels (server/engine/native/blas-kernels.ts) registered on the wasm
// backend against the pure-JS cpu backend: BatchMatMul over every transpose combination, batch
// shapes and odd sizes, _FusedMatMul with bias and each activation, and the gradients of a
// tf.layers dense model; also that a dense layer's forward and backward products all reach sgemm.
//
// Without the addon (OpenBLAS or the build step missing) the tests are skipped with the reason,
// unless GOWIDE_REQUIRE_NATIVE=1 (set in CI, where the addon is built): then they fail.
import { before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerMissingWasmKernels } from '../../server/engine/kernels/wasm-gradients';
import { loadBlasAddon, registerNativeBlasKernels } from '../../server/engine/native/blas-kernels';

const wasmDist = path.resolve(__dirname, '../../node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/';
const requireNative = process.env.GOWIDE_REQUIRE_NATIVE === '1';

/** Deterministic pseudo-random numbers in [-1, 1) (mulberry32), so failures reproduce. */
function randomValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return values;
}

interface HostTensor {
  values: Float32Array;
  shape: number[];
}

function hostFloat(shape: number[], seed: number): HostTensor {
  return { values: randomValues(shape.reduce((a, b) => a * b, 1), seed), shape };
}

async function runKernelOn(
  backendName: 'wasm' | 'cpu',
  kernelName: string,
  inputs: Record<string, HostTensor>,
  attrs: Record<string, unknown>,
): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backendName);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, host] of Object.entries(inputs)) tensors[name] = tf.tensor(host.values, host.shape, 'float32');
  const before = tf.memory().numTensors;
  const out = tf.engine().runKernel(kernelName, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { values: Float32Array.from(out.dataSync()), shape: out.shape };
  out.dispose();
  Object.values(tensors).forEach((tensor) => tensor.dispose());
  assert.equal(tf.memory().numTensors, before - Object.keys(tensors).length, 'tensor leak');
  return result;
}

/** max |actual - expected| <= tolerance * max |expected| (plus a tiny absolute floor for all-zero results). */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, relativeTolerance = 1e-4): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let maxReference = 0;
  let maxDifference = 0;
  for (let i = 0; i < expected.length; i++) {
    maxReference = Math.max(maxReference, Math.abs(expected[i]));
    maxDifference = Math.max(maxDifference, Math.abs(actual[i] - expected[i]));
  }
  assert.ok(
    maxDifference <= relativeTolerance * maxReference + 1e-7,
    `${label}: max |native - cpu| = ${maxDifference} with max |cpu| = ${maxReference}`,
  );
}

async function compareKernel(
  kernelName: string,
  inputs: Record<string, HostTensor>,
  attrs: Record<string, unknown>,
  label: string,
): Promise<void> {
  const reference = await runKernelOn('cpu', kernelName, inputs, attrs);
  const actual = await runKernelOn('wasm', kernelName, inputs, attrs);
  assert.deepEqual(actual.shape, reference.shape, `${label}: shape`);
  assertClose(actual.values, reference.values, label);
}

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

/** Counts the addon's sgemm calls while fn runs (the addon object is shared with the kernels). */
async function countSgemmCalls(fn: () => Promise<void> | void): Promise<number> {
  const load = loadBlasAddon();
  if (!load.ok) throw new Error(load.reason);
  const addon = load.addon;
  const original = addon.sgemm;
  let calls = 0;
  addon.sgemm = (...args) => {
    calls++;
    original.apply(addon, args);
  };
  try {
    await fn();
  } finally {
    addon.sgemm = original;
  }
  return calls;
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
    if (registration.ok) return false;
    if (requireNative) assert.fail(`GOWIDE_REQUIRE_NATIVE=1 but ${registration.reason}`);
    t.skip(registration.reason);
    return true;
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

    const gradientsOn = async (backendName: 'cpu' | 'wasm'): Promise<{ loss: number; grads: Float32Array[] }> => {
      await tf.setBackend(backendName);
      const model = buildModel();
      model.setWeights(weightValues.map((w) => tf.tensor(w.values, w.shape)));
      const x = tf.tensor2d(xValues, [batch, inputSize]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 5);
      const { value, grads } = tf.variableGrads(() =>
        tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar,
      );
      const names = model.trainableWeights.map((w) => (w.read() as tf.Variable).name);
      const result = { loss: value.dataSync()[0], grads: names.map((name) => Float32Array.from(grads[name].dataSync())) };
      tf.dispose([x, y, value, ...Object.values(grads)]);
      model.dispose();
      return result;
    };
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
