// Checks the native element-wise kernels (server/engine/native/elementwise-kernels.ts,
// gowide_elementwise.c) registered on the wasm backend against the pure-JS cpu backend on random
// inputs: Tile, Sum and Mean over mergeable and non-mergeable axes, the broadcasting binary ops,
// the unary functions, GatherV2, Transpose, Softmax, FusedBatchNorm, the erf, relu and square gradients, the per-channel batch-norm gradient (GowideBatchNormGrad via the FusedBatchNorm gradient of
// server/engine/kernels/gradients.ts) and the Tile gradient, and a tf.layers model with
// BatchNormalization and LayerNormalization end to end; also that the native paths really ran.
//
// Without the addon the tests are skipped with the reason, unless GOWIDE_REQUIRE_NATIVE=1 (CI).
import { before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerFastGradients, tileGradient, unregisterFastGradients } from '../../server/engine/kernels/gradients';
import { registerMissingWasmKernels } from '../../server/engine/kernels/wasm-gradients';
import { registerNativeBlasKernels } from '../../server/engine/native/blas-kernels';
import { broadcastDims, reductionRuns, RELU_GRAD_SUM, simplifyTranspose } from '../../server/engine/native/elementwise-kernels';
import { countAddonCalls, hostFloat, kernelComparison, layersGradientsOn, randomValues, skipWithoutNative, wasmDist } from './kernel-test-helpers';
import { restoringEnv } from './env';

const ELEMENTWISE_KERNELS = [
  ...['Tile', 'Sum', 'Mean', 'FusedBatchNorm', 'GatherV2', 'Transpose', 'Softmax', 'Exp', 'Erf', 'Rsqrt', 'Sqrt', 'Log', 'Tanh', 'Sigmoid'],
  ...['Add', 'Sub', 'Multiply', 'RealDiv', 'SquaredDifference', 'GowideBatchNormGrad', 'GowideErfGrad', 'GowideGelu', 'GowideGeluGrad'],
  ...['GowideReluGrad', 'GowideReluGradSum', 'GowideSquareGrad', 'GowideAddRelu', 'GowideBatchNormTrain', 'GowideBatchNormTrainGrad', 'GowideBatchNormReluTrain', 'GowideBatchNormReluTrainGrad', 'GowideMovingAverages', 'GowideLayerNorm', 'GowideLayerNormGrad', 'GowideAddLayerNorm', 'GowideAddLayerNormGrad', 'GowideAdam'],
];
const { assertClose, compareKernel } = kernelComparison({ absoluteFloor: 1e-6, actualName: 'native' });

function countCalls(fn: () => Promise<void> | void) {
  return countAddonCalls(['tile', 'reduceSum', 'binary', 'unary', 'erfGrad', 'gather', 'transpose', 'softmax', 'batchNorm', 'batchNormGrad', 'batchNormGradFull'], fn);
}

describe('shape simplification of the native element-wise kernels', () => {
  it('reductionRuns merges axes into [outer, reduce, inner] or gives up', () => {
    assert.deepEqual(reductionRuns([128, 28, 28, 16], [0, 1, 2]), { outer: 1, reduce: 128 * 28 * 28, inner: 16 });
    assert.deepEqual(reductionRuns([128, 32, 64], [2]), { outer: 128 * 32, reduce: 64, inner: 1 });
    assert.deepEqual(reductionRuns([4, 1, 5, 6, 7], [2, 3]), { outer: 4, reduce: 30, inner: 7 });
    assert.deepEqual(reductionRuns([3, 1, 4], [1]), { outer: 12, reduce: 1, inner: 1 });
    assert.deepEqual(reductionRuns([], []), { outer: 1, reduce: 1, inner: 1 });
    assert.equal(reductionRuns([2, 3, 4, 5], [0, 2]), null);
  });

  it('broadcastDims merges axes by which operand they come from', () => {
    assert.deepEqual(Array.from(broadcastDims([128, 28, 28, 8], [8])), [2, 128 * 28 * 28, 8, 8, 1, 0, 1]);
    assert.deepEqual(Array.from(broadcastDims([5, 6], [5, 6])), [1, 30, 1, 1]);
    assert.deepEqual(Array.from(broadcastDims([4, 1, 6], [4, 5, 1])), [3, 4, 5, 6, 6, 0, 1, 5, 1, 0]);
    assert.deepEqual(Array.from(broadcastDims([], [3])), [1, 3, 0, 1]);
    assert.deepEqual(Array.from(broadcastDims([1, 1], [])), [1, 1, 1, 1]);
  });
});

describe('transpose simplification', () => {
  it('merges axes that stay neighbours and drops axes of size 1', () => {
    assert.deepEqual(simplifyTranspose([2, 3, 4, 5], [2, 3, 0, 1]), { shape: [6, 20], perm: [1, 0] });
    assert.deepEqual(simplifyTranspose([128, 8, 32, 16], [0, 2, 1, 3]), { shape: [128, 8, 32, 16], perm: [0, 2, 1, 3] });
    assert.deepEqual(simplifyTranspose([4, 1, 5], [2, 1, 0]), { shape: [4, 5], perm: [1, 0] });
    assert.deepEqual(simplifyTranspose([3, 4], [0, 1]), { shape: [12], perm: [0] });
    assert.deepEqual(simplifyTranspose([1, 1], [1, 0]), { shape: [1], perm: [0] });
  });
});

describe('native element-wise kernels on wasm', () => {
  let registration: ReturnType<typeof registerNativeBlasKernels> = { ok: false, reason: 'not run' };

  before(async () => {
    setWasmPaths(wasmDist);
    registerFastGradients();
    registerMissingWasmKernels();
    registration = registerNativeBlasKernels();
    await tf.setBackend('wasm');
    await tf.ready();
  });

  function skipWithoutAddon(t: TestContext): boolean {
    if (registration.ok && ELEMENTWISE_KERNELS.every((name) => registration.ok && registration.kernels.includes(name))) return false;
    const reason = registration.ok ? `element-wise kernels not registered (${registration.kernels.join(', ')})` : registration.reason;
    return skipWithoutNative(t, reason);
  }

  it('registers the element-wise kernels after the conv kernels, idempotently', (t) => {
    if (skipWithoutAddon(t)) return;
    assert.ok(registration.ok);
    assert.deepEqual(registration.kernels.slice(-ELEMENTWISE_KERNELS.length), ELEMENTWISE_KERNELS);
    assert.deepEqual(registerNativeBlasKernels(), registration);
  });

  it('Tile matches cpu over ranks 1-5 and reps of 1 and more', async (t) => {
    if (skipWithoutAddon(t)) return;
    const cases: Array<[number[], number[]]> = [
      [[5], [3]],
      [[2, 3], [1, 4]],
      [[1, 1, 1, 8], [6, 5, 7, 1]],
      [[6, 5, 1], [1, 1, 9]],
      [[1, 1, 7], [6, 5, 1]],
      [[2, 3, 4], [2, 1, 3]],
      [[3, 1, 2, 1, 2], [1, 2, 1, 3, 2]],
      [[4, 3], [1, 1]],
      [[2, 3], [0, 2]],
    ];
    let seed = 1;
    const counts = await countCalls(async () => {
      for (const [shape, reps] of cases) {
        await compareKernel('Tile', { x: hostFloat(shape, seed++) }, { reps }, `Tile [${shape}] x [${reps}]`);
      }
    });
    assert.equal(counts.tile, cases.length - 1, 'every case but the empty one ran natively');
    await tf.setBackend('wasm');
    const ints = tf.tile(tf.tensor1d([1, 2], 'int32'), [2]);
    assert.deepEqual(Array.from(ints.dataSync()), [1, 2, 1, 2]);
    ints.dispose();
  });

  it('Sum and Mean match cpu; axes that do not merge into one run fall back', async (t) => {
    if (skipWithoutAddon(t)) return;
    const x = hostFloat([3, 5, 7, 6], 1000);
    const merged: Array<[number[], boolean]> = [
      [[0, 1, 2], false],
      [[2, 0, 1], true],
      [[3], false],
      [[1, 2], true],
      [[0, 1, 2, 3], false],
      [[1], false],
    ];
    const counts = await countCalls(async () => {
      for (const kernel of ['Sum', 'Mean']) {
        for (const [axis, keepDims] of merged) {
          await compareKernel(kernel, { x }, { axis, keepDims }, `${kernel} [${axis}] keepDims=${keepDims}`);
        }
      }
      await compareKernel('Sum', { x: hostFloat([17, 9], 1001) }, { axis: 0, keepDims: false }, 'Sum matrix rows');
      await compareKernel('Mean', { x: hostFloat([1000], 1002, 3) }, { axis: 0, keepDims: false }, 'Mean of a long vector');
      // BatchNorm's statistics: many short rows (the grouped path), with a remainder of rows.
      await compareKernel('Mean', { x: hostFloat([37, 29, 17, 8], 1003, 2) }, { axis: [0, 1, 2], keepDims: false }, 'Mean of 8 channels');
      await compareKernel('Sum', { x: hostFloat([211, 5, 3], 1004) }, { axis: [0, 1], keepDims: true }, 'Sum of 3 channels');
    });
    assert.equal(counts.reduceSum, 2 * merged.length + 4);
    const fallback = await countCalls(async () => {
      await compareKernel('Sum', { x }, { axis: [0, 2], keepDims: false }, 'Sum [0,2]');
      await compareKernel('Mean', { x }, { axis: [1, 3], keepDims: true }, 'Mean [1,3]');
    });
    assert.equal(fallback.reduceSum, 0);
    await tf.setBackend('wasm');
    const ints = tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32');
    assert.deepEqual(Array.from(ints.sum(0).dataSync()), [4, 6]);
    ints.dispose();
  });

  it('Add, Sub, Multiply, RealDiv and SquaredDifference match cpu with and without broadcasting', async (t) => {
    if (skipWithoutAddon(t)) return;
    // Broadcasts run natively at any size; same shapes and scalars from 4096 values on.
    const shapes: Array<[number[], number[]]> = [
      [[16, 5, 8, 8], [16, 5, 8, 8]],
      [[6, 5, 4, 8], [8]],
      [[8], [6, 5, 4, 8]],
      [[6, 5, 4, 8], [1, 1, 1, 8]],
      [[6, 5, 4, 1], [6, 5, 4, 8]],
      [[4, 1, 6], [4, 5, 1]],
      [[64, 70], []],
      [[], [64, 70]],
      [[2, 1, 3, 1, 2], [1, 4, 3, 5, 1]],
    ];
    const small: Array<[number[], number[]]> = [
      [[6, 5], [6, 5]],
      [[3, 7], []],
      [[], [3, 7]],
    ];
    let seed = 50;
    const compareAll = async (cases: Array<[number[], number[]]>): Promise<number> => {
      let ran = 0;
      for (const kernel of ['Add', 'Sub', 'Multiply', 'RealDiv', 'SquaredDifference']) {
        for (const [a, b] of cases) {
          // Divisors away from zero, so that the relative comparison is meaningful.
          const bValues = hostFloat(b, seed++, kernel === 'RealDiv' ? 2 : 0);
          await compareKernel(kernel, { a: hostFloat(a, seed++), b: bValues }, {}, `${kernel} [${a}] [${b}]`);
          ran++;
        }
      }
      return ran;
    };
    let ran = 0;
    const counts = await countCalls(async () => {
      ran = await compareAll(shapes);
    });
    assert.equal(counts.binary, ran);
    const smallCounts = await countCalls(async () => {
      await compareAll(small);
    });
    assert.equal(smallCounts.binary, 0, 'small same-shape and scalar products stay in the wasm kernel');
    await tf.setBackend('wasm');
    const ints = tf.add(tf.tensor1d([1, 2], 'int32'), tf.scalar(3, 'int32'));
    assert.deepEqual(Array.from(ints.dataSync()), [4, 5]);
    ints.dispose();
  });

  it('Exp, Erf, Rsqrt, Sqrt, Log, Tanh and Sigmoid match cpu', async (t) => {
    if (skipWithoutAddon(t)) return;
    const kernels = ['Exp', 'Erf', 'Rsqrt', 'Sqrt', 'Log', 'Tanh', 'Sigmoid'];
    const counts = await countCalls(async () => {
      for (const kernel of kernels) {
        // Positive inputs where the function needs them; a wide range for the others.
        const positive = ['Rsqrt', 'Sqrt', 'Log'].includes(kernel);
        const x = hostFloat([7, 9, 5], 500 + kernel.length, positive ? 1.5 : 0);
        if (!positive) x.values = (x.values as Float32Array).map((v) => v * 4);
        await compareKernel(kernel, { x }, {}, kernel);
      }
    });
    assert.equal(counts.unary, kernels.length);
  });

  it('passes over 2^14+ values split over 2 and 3 threads (GOWIDE_POOL_THREADS) match cpu: sums, binary ops, unary ops, a gradient', async (t) => {
    if (skipWithoutAddon(t)) return;
    let seed = 700;
    // Odd sizes, so that no share ends on a round boundary.
    const [rows, columns] = [3799, 37];
    await restoringEnv(['GOWIDE_POOL_THREADS'], async () => {
      for (const threads of ['2', '3']) {
        process.env.GOWIDE_POOL_THREADS = threads;
        const label = (what: string) => `${what}, ${threads} threads`;
        const x = hostFloat([131, 29, columns], seed++);
        await compareKernel('Sum', { x }, { axis: [0, 1], keepDims: false }, label('Sum of one block (a bias gradient)'));
        await compareKernel('Mean', { x }, { axis: 2, keepDims: false }, label('Mean of many rows'));
        await compareKernel('Add', { a: hostFloat([rows, columns], seed++), b: hostFloat([columns], seed++) }, {}, label('Add of a bias'));
        await compareKernel('Multiply', { a: hostFloat([70001], seed++), b: hostFloat([70001], seed++) }, {}, label('Multiply, same shapes'));
        await compareKernel('Sub', { a: hostFloat([70001], seed++), b: hostFloat([], seed++) }, {}, label('Sub of a scalar'));
        await compareKernel('Exp', { x: hostFloat([70001], seed++) }, {}, label('Exp'));
        await tf.setBackend('cpu');
        const dyValues = hostFloat([rows, columns], seed++);
        const xValues = hostFloat([rows, columns], seed++);
        const gradientOn = async (backendName: 'cpu' | 'wasm') => {
          await tf.setBackend(backendName);
          const [xt, dyt] = [tf.tensor(xValues.values, xValues.shape), tf.tensor(dyValues.values, dyValues.shape)];
          const g = tf.grad((a: tf.Tensor) => tf.erf(a))(xt, dyt);
          const values = Float32Array.from(g.dataSync());
          tf.dispose([xt, dyt, g]);
          return values;
        };
        assertClose(await gradientOn('wasm'), await gradientOn('cpu'), label('erf gradient'));
      }
    });
  });

  it('GowideReluGradSum gives the ReLU\'s gradient and its sums over every axis but the last, as cpu does, on 1-3 threads', async (t) => {
    if (skipWithoutAddon(t)) return;
    let seed = 800;
    await restoringEnv(['GOWIDE_POOL_THREADS'], async () => {
      for (const threads of ['1', '2', '3']) {
        process.env.GOWIDE_POOL_THREADS = threads;
        // A dense layer's [batch, units], and a conv's feature map of 2^14+ values (odd sizes).
        for (const shape of [[7, 5], [131, 17, 19, 3]]) {
          const x = hostFloat(shape, seed++);
          (x.values as Float32Array)[1] = 0; // the gradient at 0 is 0
          const dy = hostFloat(shape, seed++);
          const label = `[${shape}], ${threads} threads`;
          await tf.setBackend('cpu');
          const [xc, dyc] = [tf.tensor(x.values, shape), tf.tensor(dy.values, shape)];
          const expectedDz = tf.mul(dyc, tf.step(xc));
          const expected = [expectedDz.dataSync(), tf.sum(expectedDz, shape.slice(0, -1).map((_, axis) => axis)).dataSync()].map((v) => Float32Array.from(v));
          tf.dispose([xc, dyc, expectedDz]);
          await tf.setBackend('wasm');
          const [xw, dyw] = [tf.tensor(x.values, shape), tf.tensor(dy.values, shape)];
          const outputs = tf.engine().runKernel(RELU_GRAD_SUM, { dy: dyw, x: xw }) as tf.Tensor[];
          assert.deepEqual(outputs[1].shape, [shape[shape.length - 1]]);
          assertClose(Float32Array.from(outputs[0].dataSync()), expected[0], `dz ${label}`);
          assertClose(Float32Array.from(outputs[1].dataSync()), expected[1], `dbias ${label}`);
          tf.dispose([xw, dyw, ...outputs]);
        }
      }
    });
  });

  it('GatherV2 of rows matches cpu; out-of-range indices and other axes go to the backend\'s kernel', async (t) => {
    if (skipWithoutAddon(t)) return;
    const table = hostFloat([11, 6], 600);
    const indices = { values: Int32Array.from([3, 0, 10, 3, 7, 1, 1, 9]), shape: [2, 4], dtype: 'int32' as const };
    const counts = await countCalls(async () => {
      await compareKernel('GatherV2', { x: table, indices }, { axis: 0, batchDims: 0 }, 'GatherV2 rows');
      await compareKernel('GatherV2', { x: hostFloat([5, 3, 4], 601), indices: { ...indices, values: indices.values.map((v) => v % 5) } }, { axis: 0, batchDims: 0 }, 'GatherV2 3-D');
    });
    assert.equal(counts.gather, 2);
    await compareKernel('GatherV2', { x: table, indices: { values: Int32Array.from([1, 0, 5]), shape: [3], dtype: 'int32' } }, { axis: 1, batchDims: 0 }, 'GatherV2 axis 1');
    await tf.setBackend('wasm');
    const x = tf.tensor(table.values, table.shape);
    const bad = tf.tensor1d([2, 11], 'int32');
    assert.throws(() => tf.gather(x, bad), /not in \[0, 10\]/);
    tf.dispose([x, bad]);
  });

  it('the erf (GELU), relu and square gradients match cpu, each in one native call', async (t) => {
    if (skipWithoutAddon(t)) return;
    const x = hostFloat([6, 7], 650);
    (x.values as Float32Array)[3] = 0; // relu's gradient at 0 is 0
    const dy = hostFloat([6, 7], 651);
    const cases: Array<[string, (a: tf.Tensor) => tf.Tensor, 'erfGrad' | 'binary']> = [
      ['erf', (a) => tf.erf(a.mul(2)), 'erfGrad'],
      ['relu', (a) => tf.relu(a), 'binary'],
      ['square', (a) => tf.square(a), 'binary'],
    ];
    for (const [name, f, addonFunction] of cases) {
      const gradientOn = async (backendName: 'cpu' | 'wasm'): Promise<Float32Array> => {
        await tf.setBackend(backendName);
        const xt = tf.tensor(x.values, x.shape);
        const dyt = tf.tensor(dy.values, dy.shape);
        const g = tf.grad(f)(xt, dyt);
        const values = Float32Array.from(g.dataSync());
        tf.dispose([xt, dyt, g]);
        return values;
      };
      const reference = await gradientOn('cpu');
      let actual: Float32Array = new Float32Array();
      const counts = await countCalls(async () => {
        actual = await gradientOn('wasm');
      });
      assert.equal(counts[addonFunction], 1, `${name}: one native call`);
      assertClose(actual, reference, `${name} gradient`);
    }
  });

  it('Transpose and Softmax match cpu', async (t) => {
    if (skipWithoutAddon(t)) return;
    const cases: Array<[number[], number[]]> = [
      [[6, 5], [1, 0]],
      [[4, 3, 5, 2], [0, 2, 1, 3]],
      [[4, 3, 5, 2], [3, 1, 0, 2]],
      [[2, 3, 4, 5], [2, 3, 0, 1]],
      [[3, 1, 4], [2, 1, 0]],
      [[2, 3, 2, 3, 2], [4, 0, 3, 1, 2]],
      [[5, 4], [0, 1]],
    ];
    let seed = 800;
    const counts = await countCalls(async () => {
      for (const [shape, perm] of cases) {
        await compareKernel('Transpose', { x: hostFloat(shape, seed++) }, { perm }, `Transpose [${shape}] perm [${perm}]`);
      }
      for (const shape of [[7, 9], [3, 4, 33], [5, 1]]) {
        const logits = hostFloat(shape, seed++);
        logits.values = (logits.values as Float32Array).map((v) => v * 20); // large logits: the max shift matters
        await compareKernel('Softmax', { logits }, { dim: -1 }, `Softmax [${shape}]`);
      }
    });
    assert.equal(counts.transpose, cases.length);
    assert.equal(counts.softmax, 3);
  });

  it('FusedBatchNorm matches cpu: per-channel and full-size statistics, with and without scale and offset', async (t) => {
    if (skipWithoutAddon(t)) return;
    const shape = [3, 4, 5, 6];
    let seed = 200;
    let ran = 0;
    const counts = await countCalls(async () => {
      await compareKernel(
        'FusedBatchNorm',
        { x: hostFloat([9, 7, 11, 8], seed++), mean: hostFloat([8], seed++), variance: hostFloat([8], seed++, 1.5), scale: hostFloat([8], seed++), offset: hostFloat([8], seed++) },
        { varianceEpsilon: 0.001 },
        'FusedBatchNorm 693 rows of 8 (groups of rows and a remainder)',
      );
      ran++;
      for (const statistics of [[6], shape]) {
        for (const [withScale, withOffset] of [[true, true], [false, true], [true, false], [false, false]]) {
          const inputs: Record<string, ReturnType<typeof hostFloat>> = {
            x: hostFloat(shape, seed++),
            mean: hostFloat(statistics, seed++),
            variance: hostFloat(statistics, seed++, 1.5),
          };
          if (withScale) inputs.scale = hostFloat(statistics, seed++);
          if (withOffset) inputs.offset = hostFloat(statistics, seed++);
          await compareKernel('FusedBatchNorm', inputs, { varianceEpsilon: 0.001 }, `FusedBatchNorm [${statistics}] scale=${withScale} offset=${withOffset}`);
          ran++;
        }
      }
    });
    assert.equal(counts.batchNorm, ran);
    // Statistics of different lengths go to the backend's own kernel.
    const fallback = await countCalls(() =>
      compareKernel(
        'FusedBatchNorm',
        { x: hostFloat(shape, 260), mean: hostFloat([6], 261), variance: hostFloat([6], 262, 1.5), scale: hostFloat([1], 263) },
        { varianceEpsilon: 0.01 },
        'FusedBatchNorm with a scalar scale',
      ),
    );
    assert.equal(fallback.batchNorm, 0);
  });

  it('the batch-norm gradient (per-channel and LayerNorm-sized statistics) matches cpu and TF.js\'s own, in one native call', async (t) => {
    if (skipWithoutAddon(t)) return;
    // (Without a scale TF.js cannot differentiate batchNorm at all: it saves the missing input.)
    const cases = [
      [[4, 5, 3, 6], [6], 'batchNormGrad'],
      [[4, 5, 3, 6], [4, 5, 3, 6], 'batchNormGradFull'],
      [[9, 7, 11, 8], [8], 'batchNormGrad'], // 693 rows of 8: groups of 32 rows and a remainder
    ] as const;
    for (const [shape, statistics, addonFunction] of cases) {
      const x = hostFloat([...shape], 300);
      const dy = hostFloat([...shape], 301);
      const mean = hostFloat([...statistics], 302);
      const variance = hostFloat([...statistics], 303, 1.5);
      const scale = hostFloat([...statistics], 304);
      const offset = hostFloat([...statistics], 305);
      const gradientsOn = async (backendName: 'cpu' | 'wasm'): Promise<Float32Array[]> => {
        await tf.setBackend(backendName);
        const tensors = [x, dy, mean, variance, scale, offset].map((h) => tf.tensor(h.values, h.shape));
        const [xt, dyt, meant, variancet, scalet, offsett] = tensors;
        const f = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => tf.batchNorm(a, m, v, o, s, 0.001);
        const grads = tf.grads(f)([xt, meant, variancet, scalet, offsett], dyt);
        const values = grads.map((g) => Float32Array.from(g.dataSync()));
        tf.dispose([...tensors, ...grads]);
        return values;
      };
      unregisterFastGradients();
      const original = await gradientsOn('cpu');
      registerFastGradients();
      const reference = await gradientsOn('cpu');
      let actual: Float32Array[] = [];
      const counts = await countCalls(async () => {
        actual = await gradientsOn('wasm');
      });
      assert.equal(counts[addonFunction], 1, `[${statistics}]: one ${addonFunction} call`);
      ['x', 'mean', 'variance', 'scale', 'offset'].forEach((name, i) => {
        assertClose(actual[i], reference[i], `d${name} [${statistics}]`);
        assertClose(reference[i], original[i], `d${name} [${statistics}]: ours vs TF.js's gradient on cpu`);
      });
    }
  });

  it('the Tile gradient (one Sum) matches TF.js\'s own (slice per repetition)', async (t) => {
    if (skipWithoutAddon(t)) return;
    const cases: Array<[number[], number[]]> = [
      [[1, 1, 5], [4, 3, 1]],
      [[4, 3, 1], [1, 1, 5]],
      [[2, 3], [3, 2]],
      [[3], [4]],
      [[2, 1, 3, 2], [1, 3, 2, 1]],
      [[2, 2], [1, 1]],
    ];
    let seed = 400;
    for (const [shape, reps] of cases) {
      const xValues = randomValues(shape.reduce((a, b) => a * b, 1), seed++);
      const dyShape = shape.map((size, axis) => size * reps[axis]);
      const dyValues = randomValues(dyShape.reduce((a, b) => a * b, 1), seed++);
      const gradient = async (backendName: 'cpu' | 'wasm', ours: boolean): Promise<Float32Array> => {
        await tf.setBackend(backendName);
        if (ours) registerFastGradients();
        else unregisterFastGradients();
        const xt = tf.tensor(xValues, shape);
        const dyt = tf.tensor(dyValues, dyShape);
        const g = tf.grad((a: tf.Tensor) => tf.tile(a, reps))(xt, dyt);
        const values = Float32Array.from(g.dataSync());
        tf.dispose([xt, dyt, g]);
        return values;
      };
      const original = await gradient('cpu', false);
      assertClose(await gradient('cpu', true), original, `Tile grad cpu [${shape}] x [${reps}]`);
      assertClose(await gradient('wasm', true), original, `Tile grad wasm [${shape}] x [${reps}]`);
      await tf.setBackend('cpu');
      const direct = tf.tidy(() => tileGradient(tf.tensor(dyValues, dyShape), shape, reps).dataSync());
      assertClose(direct, original, `tileGradient [${shape}] x [${reps}]`);
    }
    registerFastGradients();
  });

  it('a tf.layers model with BatchNormalization and LayerNormalization: gradients match cpu', async (t) => {
    if (skipWithoutAddon(t)) return;
    const batch = 5;
    const buildModel = (): tf.LayersModel =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [9, 8, 3], filters: 6, kernelSize: 3, padding: 'same', useBias: false }),
          tf.layers.batchNormalization({ axis: -1 }),
          tf.layers.reLU(),
          tf.layers.conv2d({ filters: 4, kernelSize: 1, strides: 2 }),
          tf.layers.reshape({ targetShape: [20, 4] }),
          tf.layers.layerNormalization({ axis: -1 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 5 }),
        ],
      });
    const weightValues = buildModel()
      .getWeights()
      .map((w, index) => ({ shape: w.shape, values: randomValues(w.size, 700 + index).map((v) => 0.5 + 0.5 * v) }));
    const xValues = randomValues(batch * 9 * 8 * 3, 99);
    const labels = Array.from({ length: batch }, (_, i) => (i * 2) % 5);
    const gradientsOn = (backendName: 'cpu' | 'wasm') => layersGradientsOn(backendName, buildModel, weightValues, xValues, [batch, 9, 8, 3], labels, 5);
    const reference = await gradientsOn('cpu');
    let actual: { loss: number; grads: Float32Array[] } = { loss: NaN, grads: [] };
    const counts = await countCalls(async () => {
      actual = await gradientsOn('wasm');
    });
    assert.ok(Math.abs(actual.loss - reference.loss) <= 1e-4 * Math.abs(reference.loss), `loss ${actual.loss} vs ${reference.loss}`);
    assert.equal(actual.grads.length, reference.grads.length);
    actual.grads.forEach((grad, index) => assertClose(grad, reference.grads[index], `gradient ${index}`, 1e-3));
    assert.equal(counts.batchNormGrad, 1);
    assert.equal(counts.batchNormGradFull, 1);
    assert.ok(counts.tile >= 1 && counts.reduceSum >= 4 && counts.binary >= 5, JSON.stringify(counts));
  });
});
