// Checks the convolution's fused op (server/engine/kernels/fused-conv.ts: GowideConv forward, the
// ReLU's gradient from its output and the input, filter and bias gradients backwards; built by
// LayerFactory.conv for a conv with a bias or a ReLU) on wasm against tf.conv2d, tf.add and tf.relu on
// the pure-JS cpu backend: values and the gradients of x, filter and bias, as an op and as layers
// inside a tf.model in training; one kernel forward where TF.js would run three, no input gradient
// for the first layer; the standard class name and config; and TF.js's kernels where it cannot run.
//
// Without the addon the tests are skipped with the reason, unless GOWIDE_REQUIRE_NATIVE=1 (CI).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { fusedConv2d } from '../../server/engine/kernels/fused-conv';
import { CONV } from '../../server/engine/native/conv-kernels';
import { RELU_GRAD } from '../../server/engine/native/elementwise-kernels';
import { LayerFactory } from '../../server/models/layer-factory';
import { assertBiasedOpMatchesCpu, biasThenActivation, kernelComparison, layerStackStep, nativeWasmBackend, skipWithoutNative } from './kernel-test-helpers';

const { assertClose } = kernelComparison({ absoluteFloor: 1e-5, actualName: 'fused' });

interface Case {
  x: number[];
  filter: number[];
  strides: [number, number];
  padding: 'same' | 'valid';
}

describe('fused conv (conv2d + bias + ReLU)', () => {
  let reason: string | null = 'not run';
  before(async () => {
    reason = await nativeWasmBackend([CONV, RELU_GRAD]);
  });

  it('GowideConv and its gradient match conv2d, add and relu on cpu: strides 1 and 2, same and valid, with and without bias', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    const cases: Case[] = [
      { x: [2, 5, 5, 1], filter: [3, 3, 1, 4], strides: [1, 1], padding: 'same' },
      { x: [3, 8, 8, 4], filter: [3, 3, 4, 6], strides: [2, 2], padding: 'same' },
      { x: [2, 7, 6, 3], filter: [1, 1, 3, 5], strides: [1, 1], padding: 'valid' },
      { x: [4, 9, 9, 2], filter: [3, 3, 2, 8], strides: [2, 2], padding: 'valid' },
    ];
    let seed = 1;
    for (const c of cases) {
      await assertBiasedOpMatchesCpu({
        label: `x ${JSON.stringify(c.x)} filter ${JSON.stringify(c.filter)} strides ${c.strides[0]} ${c.padding}`,
        seed,
        shapes: (withBias) => ({ x: c.x, weight: c.filter, bias: withBias ? [c.filter[3]] : null }),
        standard: (activation) => (x, filter, bias) => biasThenActivation(tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, c.strides, c.padding), bias, activation),
        fused: (activation) => (x, filter, bias) => fusedConv2d(x, filter, bias, { strides: c.strides, padding: c.padding, dilations: [1, 1], activation })!,
        names: ['y', 'dx', 'dfilter', 'dbias'],
        assertClose,
      });
      seed += 100;
    }
  });

  it('refuses what it does not compute: another activation, dilation, mismatched shapes, another backend', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    await tf.setBackend('wasm');
    const [x, filter, bias] = [tf.zeros([1, 5, 5, 2]), tf.zeros([3, 3, 2, 4]), tf.zeros([4])];
    const o = { strides: [1, 1] as [number, number], padding: 'same' as const, dilations: [1, 1] as [number, number], activation: 'relu' };
    assert.equal(fusedConv2d(x, filter, bias, { ...o, activation: 'elu' }), null);
    assert.equal(fusedConv2d(x, filter, bias, { ...o, dilations: [2, 2] }), null);
    assert.equal(fusedConv2d(x, tf.zeros([3, 3, 3, 4]), bias, o), null);
    assert.equal(fusedConv2d(x, filter, tf.zeros([3]), o), null);
    assert.deepEqual(fusedConv2d(x, filter, bias, o)?.shape, [1, 5, 5, 4]);
    await tf.setBackend('cpu');
    assert.equal(fusedConv2d(x, filter, bias, o), null);
  });

  it('LayerFactory.conv in a tf.model trains like tf.layers.conv2d on cpu, one kernel forward per layer, no input gradient for the first; same class name and config', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    const run = async (backendName: 'cpu' | 'wasm', fused: boolean) => {
      await tf.setBackend(backendName);
      const make = new LayerFactory(5, 'relu');
      const options = { filters: 6, kernelSize: 3, initFor: 'act' as const, activate: true, useBias: true };
      const layers = fused
        ? [make.conv('block0', 'conv', options), make.conv('block1', 'conv', { ...options, strides: 2 })]
        : [
            tf.layers.conv2d({ name: 'block0_conv', filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }),
            tf.layers.conv2d({ name: 'block1_conv', filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
          ];
      return layerStackStep(layers, [10, 10, 2], 4);
    };
    const expected = await run('cpu', false);
    const onCpu = await run('cpu', true); // no fused kernel: the standard path
    onCpu.values.forEach((values, i) => assertClose(values, expected.values[i], `cpu output ${i}`));
    const actual = await run('wasm', true);
    actual.values.forEach((values, i) => assertClose(values, expected.values[i], `fused output ${i}`));
    assert.deepEqual(actual.described, expected.described);
    const count = (name: string) => actual.kernels.filter((k) => k === name).length;
    assert.equal(count(CONV), 2, actual.kernels.join());
    assert.equal(count('Conv2DBackpropInput'), 1, `only the second layer's input gradient: ${actual.kernels.join()}`);
    for (const unfused of ['Relu', 'FusedConv2D', 'Conv2D']) assert.equal(count(unfused), 0, `${unfused} in ${actual.kernels.join()}`);
    assert.ok(expected.kernels.includes('Relu'), 'TF.js splits the ReLU conv layer in training');
  });
});
