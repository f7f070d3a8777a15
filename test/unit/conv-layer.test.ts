// Checks PlainConv2D (server/models/conv-layer.ts) against tf.layers' Conv2D on the wasm backend
// with the native kernels: the same output and gradients, and no gradient of the input (no
// Conv2DBackpropInput) when nothing asks for it, e.g. for the first layer of a net.
//
// Without the addon the tests are skipped with the reason, unless GOWIDE_REQUIRE_NATIVE=1 (CI).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { PlainConv2D } from '../../server/models/conv-layer';
import { countAddonCalls, kernelComparison, nativeWasmBackend, randomValues, skipWithoutNative } from './kernel-test-helpers';

const { assertClose } = kernelComparison({ absoluteFloor: 1e-5, actualName: 'plain' });

type ConvArgs = NonNullable<Parameters<typeof tf.layers.conv2d>[0]>;

/** y and the gradients of sum(y * w) for the kernel (and x when `xGradient`), with the addon's calls counted. */
async function convOn(plain: boolean, args: ConvArgs, xShape: number[], xGradient: boolean) {
  let result: Float32Array[] = [];
  const calls = await countAddonCalls(['conv2dBackpropInput', 'conv2dBackpropFilter'], () => {
    const layer = plain ? new PlainConv2D(args) : tf.layers.conv2d(args);
    layer.build(xShape);
    layer.setWeights(layer.getWeights().map((w, i) => tf.tensor(randomValues(w.size, 40 + i), w.shape)));
    const xValues = tf.tensor(randomValues(xShape.reduce((a, b) => a * b, 1), 30), xShape);
    const x = xGradient ? tf.variable(xValues) : xValues;
    let y: tf.Tensor | null = null;
    const variables = [...(xGradient ? [x as tf.Variable] : []), ...layer.trainableWeights.map((v) => v.read() as tf.Variable)];
    const { grads } = tf.variableGrads(() => {
      y = tf.keep(layer.apply(x, { training: true }) as tf.Tensor);
      const w = tf.tensor(randomValues(y.size, 50), y.shape);
      return tf.sum(tf.mul(y, w)) as tf.Scalar;
    }, variables);
    result = [y!, ...variables.map((v) => grads[v.name])].map((t) => Float32Array.from(t.dataSync()));
    tf.dispose([x, xValues, y!, ...Object.values(grads)]);
    layer.weights.forEach((weight) => weight.dispose());
  });
  return { result, calls };
}

describe('PlainConv2D on wasm', () => {
  let reason: string | null = 'not run';

  before(async () => {
    reason = await nativeWasmBackend(['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']);
  });

  const cases: Array<[string, ConvArgs, number[]]> = [
    ['no bias, linear, 3x3 same', { filters: 6, kernelSize: 3, padding: 'same', useBias: false }, [4, 9, 9, 2]],
    ['no bias, linear, 1x1 stride 2', { filters: 5, kernelSize: 1, strides: 2, padding: 'same', useBias: false }, [3, 8, 8, 4]],
    ['bias and relu (the layer itself)', { filters: 4, kernelSize: 3, padding: 'valid', activation: 'relu' }, [2, 7, 7, 3]],
  ];
  for (const [label, args, xShape] of cases) {
    it(`matches tf.layers.conv2d: ${label}`, async (t) => {
      if (skipWithoutNative(t, reason)) return;
      const expected = await convOn(false, args, xShape, true);
      const actual = await convOn(true, args, xShape, true);
      ['y', 'dx', 'dkernel', 'dbias'].slice(0, expected.result.length).forEach((name, i) => assertClose(actual.result[i], expected.result[i], name));
    });
  }

  it('computes no input gradient for an input nothing differentiates', async (t) => {
    if (skipWithoutNative(t, reason)) return;
    const [, args, xShape] = cases[0];
    const standard = await convOn(false, args, xShape, false);
    const plain = await convOn(true, args, xShape, false);
    assert.deepEqual(standard.calls, { conv2dBackpropInput: 1, conv2dBackpropFilter: 1 });
    assert.deepEqual(plain.calls, { conv2dBackpropInput: 0, conv2dBackpropFilter: 1 });
    assertClose(plain.result[1], standard.result[1], 'dkernel');
  });
});
