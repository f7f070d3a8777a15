// Checks the kernels that server/engine/kernels/wasm-gradients.ts registers on the wasm backend
// against the pure-JS cpu backend, on random inputs over a grid of shapes, strides and paddings,
// then end to end: gradients of a small conv net, and a few optimizer steps that lower the loss;
// also that Identity and same-dtype Cast share their input's data instead of copying it.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerMissingWasmKernels } from '../../server/engine/kernels/wasm-gradients';
import { convCases, describeCase, hostFloat, kernelComparison, outSize, randomValues, runKernelOn, wasmDist } from './kernel-test-helpers';

const { assertClose, compareKernel } = kernelComparison({ absoluteFloor: 1e-6, actualName: 'wasm' });

const CONV_CASES = convCases(
  [
    { batch: 3, height: 9, width: 8, inChannels: 2, outChannels: 4 },
    { batch: 2, height: 12, width: 11, inChannels: 5, outChannels: 3 },
  ],
  [
    { batch: 4, height: 28, width: 28, inChannels: 1, outChannels: 16, kernel: 3, stride: 1, pad: 'same' },
    { batch: 1, height: 7, width: 7, inChannels: 3, outChannels: 2, kernel: 3, stride: 2, pad: 'same' },
  ],
);

describe('wasm gradient kernels', () => {
  let registered: string[] = [];

  before(async () => {
    setWasmPaths(wasmDist);
    registered = registerMissingWasmKernels();
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it('registers the missing kernels, idempotently', () => {
    for (const name of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'BatchMatMul', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'UnsortedSegmentSum']) {
      assert.ok(registered.includes(name), `${name} registered`);
      assert.ok(tf.getKernel(name, 'wasm') != null, `${name} present on wasm`);
    }
    assert.deepEqual(registerMissingWasmKernels(), registered);
  });

  it('Identity and same-dtype Cast share the data: clones outlive their source, nothing leaks', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory();
    const x = tf.tensor(randomValues(24, 9), [2, 3, 4]);
    const copy = x.clone();
    const same = tf.cast(x, 'float32');
    const floats = tf.tensor1d([1.5, -2.5, 3]);
    const ints = tf.cast(floats, 'int32');
    const backend = tf.backend() as unknown as { refCount(dataId: object): number };
    assert.equal(backend.refCount(x.dataId), 3, 'x, its clone and its same-dtype cast share one buffer');
    const expected = Array.from(x.dataSync());
    x.dispose();
    assert.deepEqual(Array.from(copy.dataSync()), expected);
    assert.deepEqual(Array.from(same.dataSync()), expected);
    assert.deepEqual(Array.from(ints.dataSync()), [1, -2, 3], 'a cast to another dtype converts');
    assert.equal(backend.refCount(ints.dataId), 1);
    copy.dispose();
    floats.dispose();
    same.dispose();
    ints.dispose();
    assert.equal(tf.memory().numTensors, before.numTensors);
    assert.equal(tf.memory().numBytes, before.numBytes);
  });

  it('Conv2DBackpropFilter matches cpu', async () => {
    let seed = 1;
    for (const c of CONV_CASES) {
      const oh = outSize(c.height, c.kernel, c.stride, c.pad);
      const ow = outSize(c.width, c.kernel, c.stride, c.pad);
      await compareKernel(
        'Conv2DBackpropFilter',
        { x: hostFloat([c.batch, c.height, c.width, c.inChannels], seed++), dy: hostFloat([c.batch, oh, ow, c.outChannels], seed++) },
        { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', filterShape: [c.kernel, c.kernel, c.inChannels, c.outChannels] },
        `Conv2DBackpropFilter ${describeCase(c)}`,
      );
    }
  });

  it('Conv2DBackpropInput matches cpu', async () => {
    let seed = 1000;
    for (const c of CONV_CASES) {
      const oh = outSize(c.height, c.kernel, c.stride, c.pad);
      const ow = outSize(c.width, c.kernel, c.stride, c.pad);
      await compareKernel(
        'Conv2DBackpropInput',
        { dy: hostFloat([c.batch, oh, ow, c.outChannels], seed++), filter: hostFloat([c.kernel, c.kernel, c.inChannels, c.outChannels], seed++) },
        { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', inputShape: [c.batch, c.height, c.width, c.inChannels] },
        `Conv2DBackpropInput ${describeCase(c)}`,
      );
    }
  });

  it('DepthwiseConv2dNativeBackpropInput and ...BackpropFilter match cpu', async () => {
    let seed = 2000;
    for (const c of CONV_CASES) {
      for (const multiplier of [1, 2]) {
        const oh = outSize(c.height, c.kernel, c.stride, c.pad);
        const ow = outSize(c.width, c.kernel, c.stride, c.pad);
        const filterShape = [c.kernel, c.kernel, c.inChannels, multiplier];
        const dy = hostFloat([c.batch, oh, ow, c.inChannels * multiplier], seed++);
        const common = { strides: [c.stride, c.stride], dilations: [1, 1], pad: c.pad };
        await compareKernel(
          'DepthwiseConv2dNativeBackpropInput',
          { dy, filter: hostFloat(filterShape, seed++) },
          { ...common, inputShape: [c.batch, c.height, c.width, c.inChannels] },
          `DepthwiseConv2dNativeBackpropInput ${describeCase(c)} m${multiplier}`,
        );
        await compareKernel(
          'DepthwiseConv2dNativeBackpropFilter',
          { x: hostFloat([c.batch, c.height, c.width, c.inChannels], seed++), dy },
          { ...common, filterShape },
          `DepthwiseConv2dNativeBackpropFilter ${describeCase(c)} m${multiplier}`,
        );
      }
    }
  });

  it('MaxPoolGrad matches cpu, also for all-negative windows', async () => {
    let seed = 6000;
    for (const [height, width, channels, size, stride, pad] of [
      [8, 8, 3, 2, 2, 'valid'],
      [9, 7, 4, 3, 2, 'same'],
      [9, 7, 4, 3, 1, 'same'],
      [6, 6, 16, 2, 2, 'same'],
      [11, 10, 2, 3, 3, 'valid'],
    ] as const) {
      const batch = 3;
      const x = hostFloat([batch, height, width, channels], seed++);
      x.values = x.values.map((v) => v - 0.8); // mostly negative, many all-negative windows
      const oh = outSize(height, size, stride, pad);
      const ow = outSize(width, size, stride, pad);
      const y = await runKernelOn('cpu', 'MaxPool', { x }, { filterSize: [size, size], strides: [stride, stride], pad });
      await compareKernel(
        'MaxPoolGrad',
        { dy: hostFloat([batch, oh, ow, channels], seed++), input: x, output: { values: y.values, shape: y.shape, dtype: 'float32' } },
        { filterSize: [size, size], strides: [stride, stride], pad },
        `MaxPoolGrad x[${batch},${height},${width},${channels}] size ${size} stride ${stride} ${pad}`,
      );
    }
  });

  it('BatchMatMul matches cpu for every transpose combination and batch shape', async () => {
    let seed = 7000;
    for (const [batchA, batchB] of [[[], []], [[1], [1]], [[3], [3]], [[2, 2], [2, 2]], [[3], [1]]] as number[][][]) {
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          const [m, k, n] = [7, 33, 5];
          const aShape = [...batchA, ...(transposeA ? [k, m] : [m, k])];
          const bShape = [...batchB, ...(transposeB ? [n, k] : [k, n])];
          await compareKernel(
            'BatchMatMul',
            { a: hostFloat(aShape, seed++), b: hostFloat(bShape, seed++) },
            { transposeA, transposeB },
            `BatchMatMul a[${aShape}] b[${bShape}] tA=${transposeA} tB=${transposeB}`,
          );
        }
      }
    }
  });

  it('UnsortedSegmentSum matches cpu', async () => {
    const cases: Array<{ xShape: number[]; idShape: number[]; numSegments: number }> = [
      { xShape: [10, 4], idShape: [10], numSegments: 6 },
      { xShape: [7], idShape: [7], numSegments: 3 },
      // (ids of rank > 1 are not compared: the cpu kernel mis-broadcasts them in TF.js 4.22)
      { xShape: [50, 16], idShape: [50], numSegments: 50 },
    ];
    let seed = 3000;
    for (const { xShape, idShape, numSegments } of cases) {
      const idCount = idShape.reduce((a, b) => a * b, 1);
      // Includes ids out of range (dropped on both backends) and repeated ids.
      const ids = Int32Array.from(randomValues(idCount, seed++), (v) => Math.floor((v + 1) * 0.5 * (numSegments + 1)) - (v < -0.9 ? 2 : 0));
      await compareKernel(
        'UnsortedSegmentSum',
        { x: hostFloat(xShape, seed++), segmentIds: { values: ids, shape: idShape, dtype: 'int32' } },
        { numSegments },
        `UnsortedSegmentSum x[${xShape}] ids[${idShape}] n${numSegments}`,
      );
    }
  });

  it('gives the same gradients as cpu for a small conv net', async () => {
    const inputShape = [4, 12, 12, 3];
    const hostX = hostFloat(inputShape, 4000);
    const labels = [1, 0, 3, 2];
    const paramShapes: Record<string, number[]> = {
      convFilter: [3, 3, 3, 8],
      convBias: [8],
      gamma: [8],
      beta: [8],
      depthwiseFilter: [3, 3, 8, 1],
      embedding: [5, 8],
      dense: [6 * 6 * 8, 4],
    };
    const hostParams = Object.fromEntries(
      Object.entries(paramShapes).map(([name, shape], i) => [name, hostFloat(shape, 4100 + i)]),
    );

    const gradientsOn = async (backendName: 'wasm' | 'cpu'): Promise<Record<string, Float32Array>> => {
      await tf.setBackend(backendName);
      const x = tf.tensor(hostX.values, hostX.shape);
      const params = Object.fromEntries(
        Object.entries(hostParams).map(([name, host]) => [name, tf.tensor(host.values, host.shape)]),
      );
      const names = Object.keys(params);
      const loss = (...values: tf.Tensor[]): tf.Scalar => {
        const p = Object.fromEntries(names.map((name, i) => [name, values[i]])) as Record<string, tf.Tensor>;
        let h = tf.conv2d(x as tf.Tensor4D, p.convFilter as tf.Tensor4D, 1, 'same').add(p.convBias);
        // batch-norm-like normalization over batch and space
        const { mean, variance } = tf.moments(h, [0, 1, 2]);
        h = h.sub(mean).div(variance.add(1e-5).sqrt()).mul(p.gamma).add(p.beta);
        h = tf.relu(h);
        h = tf.depthwiseConv2d(h as tf.Tensor4D, p.depthwiseFilter as tf.Tensor4D, 1, 'same');
        // an embedding-like per-example bias (exercises gather's gradient, UnsortedSegmentSum)
        const rows = tf.gather(p.embedding, tf.tensor1d([0, 2, 2, 4], 'int32'));
        h = h.add(rows.reshape([4, 1, 1, 8]));
        h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
        const logits = h.reshape([4, 6 * 6 * 8]).matMul(p.dense);
        return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 4), logits) as tf.Scalar;
      };
      const grads = tf.grads(loss)(names.map((name) => params[name]));
      const result = Object.fromEntries(names.map((name, i) => [name, Float32Array.from(grads[i].dataSync())]));
      tf.dispose([x, ...Object.values(params), ...grads]);
      return result;
    };

    const reference = await gradientsOn('cpu');
    const actual = await gradientsOn('wasm');
    for (const name of Object.keys(reference)) {
      assertClose(actual[name], reference[name], `gradient of ${name}`, 1e-3);
    }
  });

  it('trains a small CNN on wasm: the loss goes down', async () => {
    await tf.setBackend('wasm');
    const batch = 32;
    const images = tf.tensor4d(randomValues(batch * 10 * 10, 5000), [batch, 10, 10, 1]);
    const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 3), 'int32'), 3);
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [10, 10, 1], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, activation: 'relu' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3 }),
      ],
    });
    model.compile({
      optimizer: tf.train.adam(0.01),
      loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
    });
    const history = await model.fit(images, labels, { epochs: 15, batchSize: batch, verbose: 0 });
    const losses = history.history.loss as number[];
    assert.ok(losses.every(Number.isFinite), `finite losses: ${losses}`);
    assert.ok(losses[losses.length - 1] < losses[0] * 0.8, `loss went down: ${losses[0]} -> ${losses[losses.length - 1]}`);
    tf.dispose([images, labels]);
    model.dispose();
  });
});
