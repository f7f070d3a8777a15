// Checks the native conv kernels (server/engine/native/conv-kernels.ts, gowide_conv.c) registered on
// the wasm backend against the pure-JS cpu backend: Conv2D, Conv2DBackpropFilter and
// Conv2DBackpropInput over a grid of filter sizes 1/3/5, strides 1/2, 'same'/'valid' and odd image
// sizes; dilated forward convs; small chunks over 1-3 threads (chunk and thread boundaries);
// the direct convolution for 8-16 output channels, more with short windows (forward and both
// gradients; threads from the pool or started per call); MaxPool and MaxPoolGrad (also
// all-negative windows); and the gradients of a small tf.layers CNN, checking that its convs (and
// bias-gradient sums, native-elementwise.test.ts) really ran in the addon.
//
// Without the addon the tests are skipped with the reason, unless GOWIDE_REQUIRE_NATIVE=1 (CI).
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerMissingWasmKernels } from '../../server/engine/kernels/wasm-gradients';
import { DENSE, registerNativeBlasKernels } from '../../server/engine/native/blas-kernels';
import { CONV } from '../../server/engine/native/conv-kernels';
import {
  countAddonCalls,
  convCases,
  describeCase,
  hostFloat,
  kernelComparison,
  layersGradientsOn,
  outSize,
  randomValues,
  skipWithoutNative,
  wasmDist,
} from './kernel-test-helpers';
import type { ConvCase, HostTensor } from './kernel-test-helpers';
import { restoringEnv, savedEnv } from './env';

const CONV_KERNELS = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'MaxPool', CONV];
const { assertClose, compareKernel } = kernelComparison({ absoluteFloor: 1e-7, actualName: 'native' });

const CONV_CASES = convCases(
  [
    { batch: 3, height: 9, width: 8, inChannels: 2, outChannels: 4 },
    { batch: 2, height: 11, width: 13, inChannels: 5, outChannels: 3 },
    { batch: 1, height: 7, width: 7, inChannels: 1, outChannels: 1 },
  ],
  [
    { batch: 4, height: 28, width: 28, inChannels: 1, outChannels: 16, kernel: 3, stride: 1, pad: 'same' },
    { batch: 2, height: 14, width: 14, inChannels: 16, outChannels: 32, kernel: 3, stride: 2, pad: 'same' },
  ],
);

/** Runs the three conv kernels of one case on both backends and compares them. */
async function compareConvCase(c: ConvCase, seed: number, label = describeCase(c)): Promise<void> {
  const xShape = [c.batch, c.height, c.width, c.inChannels];
  const filterShape = [c.kernel, c.kernel, c.inChannels, c.outChannels];
  const dyShape = [c.batch, outSize(c.height, c.kernel, c.stride, c.pad), outSize(c.width, c.kernel, c.stride, c.pad), c.outChannels];
  const common = { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC' };
  await compareKernel(
    'Conv2D',
    { x: hostFloat(xShape, seed), filter: hostFloat(filterShape, seed + 1) },
    { ...common, dilations: [1, 1] },
    `Conv2D ${label}`,
  );
  await compareKernel(
    'Conv2DBackpropFilter',
    { x: hostFloat(xShape, seed + 2), dy: hostFloat(dyShape, seed + 3) },
    { ...common, filterShape },
    `Conv2DBackpropFilter ${label}`,
  );
  await compareKernel(
    'Conv2DBackpropInput',
    { dy: hostFloat(dyShape, seed + 4), filter: hostFloat(filterShape, seed + 5) },
    { ...common, inputShape: xShape },
    `Conv2DBackpropInput ${label}`,
  );
}

/** Counts the addon's conv-family calls while fn runs. */
function countConvCalls(fn: () => Promise<void> | void): Promise<Record<string, number>> {
  return countAddonCalls(['conv2d', 'conv2dBackpropFilter', 'conv2dBackpropInput', 'maxPoolGrad', 'maxPool', 'reduceSum'], fn);
}

describe('native conv kernels on wasm', () => {
  let registration: ReturnType<typeof registerNativeBlasKernels> = { ok: false, reason: 'not run' };
  const restoreEnv = savedEnv(['GOWIDE_CONV_CHUNK_ROWS', 'GOWIDE_POOL_THREADS']);

  before(async () => {
    setWasmPaths(wasmDist);
    registerMissingWasmKernels();
    registration = registerNativeBlasKernels();
    await tf.setBackend('wasm');
    await tf.ready();
  });

  after(restoreEnv);

  function skipWithoutAddon(t: TestContext): boolean {
    if (registration.ok && CONV_KERNELS.every((name) => registration.ok && registration.kernels.includes(name))) return false;
    const reason = registration.ok ? `conv kernels not registered (${registration.kernels.join(', ')})` : registration.reason;
    return skipWithoutNative(t, reason);
  }

  it('registers Conv2D, its gradients and MaxPoolGrad with the BLAS kernels, idempotently', (t) => {
    if (skipWithoutAddon(t)) return;
    assert.ok(registration.ok);
    // then the element-wise kernels (native-elementwise.test.ts)
    assert.deepEqual(registration.kernels.slice(0, 3 + CONV_KERNELS.length), ['BatchMatMul', '_FusedMatMul', DENSE, ...CONV_KERNELS]);
    assert.equal(tf.getKernel('Conv2D', 'wasm')?.kernelFunc.name, 'nativeConv2d');
    assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc.name, 'nativeConv2dBackpropFilter');
    assert.deepEqual(registerNativeBlasKernels(), registration);
    assert.equal(tf.getKernel('Conv2D', 'wasm')?.kernelFunc.name, 'nativeConv2d');
  });

  it('Conv2D, Conv2DBackpropFilter and Conv2DBackpropInput match cpu over filter 1/3/5, stride 1/2, same/valid', async (t) => {
    if (skipWithoutAddon(t)) return;
    let seed = 1;
    for (const c of CONV_CASES) {
      await compareConvCase(c, seed);
      seed += 10;
    }
  });

  it('im2col products in register tiles match cpu: 24-96 channels, several chunks (the filter gradient accumulating), 1-2 threads', async (t) => {
    if (skipWithoutAddon(t)) return;
    await restoringEnv(['GOWIDE_CONV_CHUNK_ROWS', 'GOWIDE_POOL_THREADS'], async () => {
      let seed = 5000;
      const cases: ConvCase[] = [
        { batch: 2, height: 9, width: 7, inChannels: 32, outChannels: 32, kernel: 3, stride: 1, pad: 'same' },
        { batch: 3, height: 10, width: 9, inChannels: 16, outChannels: 64, kernel: 3, stride: 2, pad: 'valid' },
        { batch: 1, height: 11, width: 5, inChannels: 8, outChannels: 96, kernel: 5, stride: 1, pad: 'same' },
        // An even filter pads unevenly; a 'valid' conv's input gradient reaches past dy's edges.
        { batch: 2, height: 7, width: 6, inChannels: 32, outChannels: 24, kernel: 2, stride: 1, pad: 'same' },
        { batch: 2, height: 8, width: 9, inChannels: 24, outChannels: 40, kernel: 3, stride: 1, pad: 'valid' },
      ];
      for (const c of cases) {
        for (const [chunk, threads] of [['37', '1'], ['64', '2'], ['0', '2']]) {
          process.env.GOWIDE_CONV_CHUNK_ROWS = chunk;
          process.env.GOWIDE_POOL_THREADS = threads;
          await compareConvCase(c, seed, `tiles chunk ${chunk} threads ${threads} ${describeCase(c)}`);
          seed += 10;
        }
      }
    });
  });

  it('the direct convolution (8-16 output channels, more for short windows) matches cpu: filter 1/2/3/5, stride 1/2/3, same/valid, odd sizes, 1-3 threads, bias and activations', async (t) => {
    if (skipWithoutAddon(t)) return;
    await restoringEnv(['GOWIDE_POOL_THREADS'], async () => {
      let seed = 2000;
      // [in, out] channels: out 8/16 run direct (forward, filter gradient; input gradient where in is 8/16);
      // out 24-64 (in groups of up to 32) where the window is at most 32 values (filter x filter x in), else im2col.
      const channels = [[8, 8], [16, 8], [8, 16], [3, 24], [5, 32], [1, 16], [32, 16], [24, 4], [1, 64], [3, 40], [2, 56]] as const;
      for (const [inChannels, outChannels] of channels) {
        for (const kernel of [1, 2, 3, 5]) {
          for (const stride of [1, 2, 3]) {
            for (const pad of ['same', 'valid'] as const) {
              process.env.GOWIDE_POOL_THREADS = String(1 + ((seed / 10) % 3));
              const c: ConvCase = { batch: 3, height: 9 + (seed % 3), width: 7 + (seed % 4), inChannels, outChannels, kernel, stride, pad };
              const counts = await countConvCalls(() => compareConvCase(c, seed, `direct ${describeCase(c)}`));
              assert.equal(counts.conv2d, 1);
              seed += 10;
            }
          }
        }
      }
      for (const activation of ['linear', 'relu', 'elu']) {
        await compareKernel(
          'FusedConv2D',
          { x: hostFloat([2, 11, 9, 8], seed++), filter: hostFloat([3, 3, 8, 16], seed++), bias: hostFloat([16], seed++) },
          { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], activation, leakyreluAlpha: 0.2 },
          `direct FusedConv2D ${activation}`,
        );
      }
    });
  });

  it('match cpu with tiny chunks over 1, 2 and 3 threads (chunk and thread boundaries)', async (t) => {
    if (skipWithoutAddon(t)) return;
    await restoringEnv(['GOWIDE_POOL_THREADS', 'GOWIDE_CONV_CHUNK_ROWS'], async () => {
      for (const threads of ['1', '2', '3']) {
        for (const chunk of ['1', '5', '64']) {
          process.env.GOWIDE_POOL_THREADS = threads;
          process.env.GOWIDE_CONV_CHUNK_ROWS = chunk;
          const c: ConvCase = { batch: 5, height: 9, width: 7, inChannels: 3, outChannels: 4, kernel: 3, stride: 2, pad: 'same' };
          await compareConvCase(c, 700, `${describeCase(c)} threads ${threads} chunk ${chunk}`);
          const identity: ConvCase = { ...c, kernel: 1, stride: 1 };
          await compareConvCase(identity, 800, `${describeCase(identity)} threads ${threads} chunk ${chunk}`);
        }
      }
    });
  });

  it('FusedConv2D with bias and each activation matches cpu; prelu falls back', async (t) => {
    if (skipWithoutAddon(t)) return;
    let seed = 600;
    for (const activation of ['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'elu', 'prelu']) {
      for (const [kernel, stride, pad] of [[3, 1, 'same'], [1, 2, 'valid'], [5, 2, 'same']] as const) {
        const inputs: Record<string, HostTensor> = {
          x: hostFloat([3, 9, 10, 4], seed++),
          filter: hostFloat([kernel, kernel, 4, 6], seed++),
          bias: hostFloat([6], seed++),
        };
        if (activation === 'prelu') inputs.preluActivationWeights = hostFloat([6], seed++);
        await compareKernel(
          'FusedConv2D',
          inputs,
          { strides: [stride, stride], pad, dataFormat: 'NHWC', dilations: [1, 1], activation, leakyreluAlpha: 0.3 },
          `FusedConv2D k${kernel} s${stride} ${pad} ${activation}`,
        );
      }
    }
  });

  it('dilated forward Conv2D matches cpu', async (t) => {
    if (skipWithoutAddon(t)) return;
    for (const [kernel, dilation, pad] of [[3, 2, 'same'], [3, 2, 'valid'], [2, 3, 'same']] as const) {
      await compareKernel(
        'Conv2D',
        { x: hostFloat([2, 11, 10, 3], kernel), filter: hostFloat([kernel, kernel, 3, 4], dilation) },
        { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [dilation, dilation] },
        `Conv2D k${kernel} d${dilation} ${pad}`,
      );
    }
  });

  it('MaxPool matches cpu: native where the windows tile the input (odd sizes, all-negative values, 1-3 threads), the wasm kernel elsewhere', async (t) => {
    if (skipWithoutAddon(t)) return;
    let seed = 1500;
    await restoringEnv(['GOWIDE_POOL_THREADS'], async () => {
      for (const [poolSize, stride, pad] of [[2, 2, 'valid'], [3, 3, 'valid'], [2, 2, 'same'], [3, 2, 'same'], [2, 1, 'valid'], [3, 3, 'same']] as const) {
        for (const [shape, offset] of [[[3, 9, 7, 5], 0], [[2, 8, 8, 16], -3], [[1, 4, 6, 1], 0]] as Array<[number[], number]>) {
          process.env.GOWIDE_POOL_THREADS = String(1 + (seed % 3));
          const x = hostFloat(shape, seed++, offset);
          const counts = await countConvCalls(() =>
            compareKernel('MaxPool', { x }, { filterSize: [poolSize, poolSize], strides: [stride, stride], pad }, `MaxPool p${poolSize} s${stride} ${pad} ${JSON.stringify(shape)}`),
          );
          // 'same' with a stride that tiles the input pads nothing when the size divides (8x8 by 2).
          const outH = pad === 'valid' ? Math.floor((shape[1] - poolSize) / stride) + 1 : Math.ceil(shape[1] / stride);
          const outW = pad === 'valid' ? Math.floor((shape[2] - poolSize) / stride) + 1 : Math.ceil(shape[2] / stride);
          const padH = pad === 'same' ? Math.max((outH - 1) * stride + poolSize - shape[1], 0) : 0;
          const padW = pad === 'same' ? Math.max((outW - 1) * stride + poolSize - shape[2], 0) : 0;
          const tiled = stride === poolSize && padH === 0 && padW === 0;
          assert.equal(counts.maxPool, tiled ? 1 : 0, `p${poolSize} s${stride} ${pad} ${JSON.stringify(shape)}`);
        }
      }
    });
  });

  it('MaxPoolGrad matches cpu (pool 2/3, stride 1/2/3, same/valid, all-negative windows; windows that tile the input)', async (t) => {
    if (skipWithoutAddon(t)) return;
    let seed = 900;
    for (const poolSize of [2, 3]) {
      for (const stride of [1, 2, 3]) {
        for (const pad of ['same', 'valid'] as const) {
          for (const offset of [0, -3]) {
            const x = hostFloat([2, 9, 7, 3], seed++, offset);
            const gradientOn = async (backendName: 'cpu' | 'wasm'): Promise<Float32Array> => {
              await tf.setBackend(backendName);
              const input = tf.tensor4d(x.values, x.shape as [number, number, number, number]);
              const outShape = tf.tidy(() => tf.maxPool(input, poolSize, stride, pad).shape);
              const weights = tf.tensor(randomValues(outShape.reduce((a, b) => a * b, 1), seed), outShape);
              const gradient = tf.grad((v: tf.Tensor) => tf.maxPool(v as tf.Tensor4D, poolSize, stride, pad).mul(weights).sum())(input);
              const values = Float32Array.from(gradient.dataSync());
              tf.dispose([input, weights, gradient]);
              return values;
            };
            const reference = await gradientOn('cpu');
            const counts = await countConvCalls(async () => {
              assertClose(await gradientOn('wasm'), reference, `MaxPoolGrad p${poolSize} s${stride} ${pad} offset ${offset}`);
            });
            assert.equal(counts.maxPoolGrad, 1);
          }
        }
      }
    }
  });

  it('a tf.layers CNN: gradients match cpu, and its convs, pooling gradient and bias sums run natively', async (t) => {
    if (skipWithoutAddon(t)) return;
    const batch = 6;
    const buildModel = (): tf.LayersModel =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [13, 12, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.conv2d({ filters: 6, kernelSize: 5, strides: 2, padding: 'same', activation: 'relu' }),
          tf.layers.conv2d({ filters: 5, kernelSize: 1, activation: 'relu' }),
          tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid' }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 5 }),
        ],
      });
    const weightValues = buildModel()
      .getWeights()
      .map((w, index) => ({ shape: w.shape, values: randomValues(w.size, 1100 + index).map((v) => v * 0.5) }));
    const xValues = randomValues(batch * 13 * 12 * 3, 77);
    const labels = Array.from({ length: batch }, (_, i) => (i * 3) % 5);

    const gradientsOn = (backendName: 'cpu' | 'wasm'): Promise<{ loss: number; grads: Float32Array[] }> =>
      layersGradientsOn(backendName, buildModel, weightValues, xValues, [batch, 13, 12, 3], labels, 5);
    const reference = await gradientsOn('cpu');
    let actual: { loss: number; grads: Float32Array[] } = { loss: NaN, grads: [] };
    const counts = await countConvCalls(async () => {
      actual = await gradientsOn('wasm');
    });
    assert.ok(Math.abs(actual.loss - reference.loss) <= 1e-4 * Math.abs(reference.loss), `loss ${actual.loss} vs ${reference.loss}`);
    assert.equal(actual.grads.length, 10);
    actual.grads.forEach((grad, index) => assertClose(grad, reference.grads[index], `gradient ${index}`));
    assert.equal(counts.conv2d, 4, 'forward convs');
    assert.equal(counts.conv2dBackpropFilter, 4, 'filter gradients');
    assert.equal(counts.conv2dBackpropInput, 3, 'input gradients (not of the first layer)');
    assert.equal(counts.maxPoolGrad, 1);
    assert.ok(counts.reduceSum >= 4, `bias gradients (native Sum): ${counts.reduceSum}`);
  });
});
