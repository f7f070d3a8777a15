// Checks GroupOptimizer's fused Adam (one GowideAdam kernel per variable, gowide_elementwise.c's
// adam) against its Adam built from TF.js ops, on the wasm backend, on random variables and
// gradients over several steps: bias correction, epsilon, weight decay (matrices only),
// learning-rate multipliers and a schedule. The two paths make the same float32 operations in the
// same order, so they agree to rounding. Also that the fused path really ran and leaks nothing.
//
// Without the addon the tests are skipped with the reason, unless GOWIDE_REQUIRE_NATIVE=1 (CI).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import { ADAM_STEP } from '../../server/engine/native/elementwise-kernels';
import { GroupOptimizer, type OptimizerSettings } from '../../server/method/training/optimizer';
import { countAddonCalls, kernelComparison, nativeWasmBackend, randomValues, skipWithoutNative } from './kernel-test-helpers';

const { assertClose } = kernelComparison({ absoluteFloor: 1e-7, actualName: 'fused' });

/** Shapes of the variables: a matrix above and below the size where products stay in wasm, biases, a
 *  scalar, and one of 2^14+ values (odd), whose step splits over the native pool's threads. */
const SHAPES = [[96, 64], [7, 5], [64], [3], [], [2, 3, 4, 5], [257, 259]];

/** Runs `steps` updates of GroupOptimizer from the same random start; returns the variables' and slots' values. */
function train(settings: OptimizerSettings, steps: number, prefix: string): Float32Array[] {
  const variables = SHAPES.map((shape, i) =>
    tf.tidy(() => tf.variable(tf.tensor(randomValues(shape.reduce((a, b) => a * b, 1), 100 + i), shape), true, `${prefix}${i}`)),
  );
  const groups = [
    { variables: variables.slice(0, 3), lrMultiplier: 1 },
    { variables: variables.slice(3), lrMultiplier: 0.25 },
  ];
  const optimizer = new GroupOptimizer(settings, groups);
  for (let step = 0; step < steps; step++) {
    tf.tidy(() => {
      const grads: Record<string, tf.Tensor> = {};
      variables.forEach((v, i) => {
        // Gradients of very different scales, some exactly zero.
        const values = randomValues(v.size, 1000 * step + i).map((g, k) => (k % 7 === 0 ? 0 : g * 10 ** ((k % 5) - 2)));
        grads[v.name] = tf.tensor(values, v.shape);
      });
      optimizer.apply(grads);
    });
  }
  const slots = (optimizer as unknown as { slots: Map<tf.Variable, { first?: tf.Variable; second?: tf.Variable }> }).slots;
  const result = variables.flatMap((v) => [v, slots.get(v)!.first!, slots.get(v)!.second!].map((t) => Float32Array.from(t.dataSync())));
  optimizer.dispose();
  tf.dispose(variables);
  return result;
}

describe('GroupOptimizer: fused Adam on wasm', () => {
  let reason: string | null = 'not run';

  before(async () => {
    reason = await nativeWasmBackend([ADAM_STEP]);
  });

  const cases: Array<[string, OptimizerSettings]> = [
    ['constant rate', { optimizer: 'adam', learningRate: 1e-3, schedule: 'constant', totalSteps: 6 }],
    ['warm-up and cosine, weight decay', { optimizer: 'adam', learningRate: 3e-2, schedule: 'warmup-cosine', weightDecay: 0.05, totalSteps: 6 }],
  ];
  for (const [label, settings] of cases) {
    it(`matches the Adam of TF.js ops (${label})`, async (t) => {
      if (skipWithoutNative(t, reason)) return;
      const config = getKernel(ADAM_STEP, 'wasm')!;
      unregisterKernel(ADAM_STEP, 'wasm');
      let expected: Float32Array[];
      try {
        expected = train(settings, 6, `ops ${label} `);
      } finally {
        registerKernel(config);
      }
      const tensorsBefore = tf.memory().numTensors;
      let actual: Float32Array[] = [];
      const calls = await countAddonCalls(['adam'], () => {
        actual = train(settings, 6, `fused ${label} `);
      });
      assert.equal(tf.memory().numTensors, tensorsBefore, 'tensor leak');
      // One call per variable and step (the scalar too).
      assert.equal(calls.adam, SHAPES.length * 6);
      actual.forEach((values, i) => {
        const what = ['value', 'first moment', 'second moment'][i % 3];
        assertClose(values, expected[i], `variable ${Math.floor(i / 3)} ${JSON.stringify(SHAPES[Math.floor(i / 3)])}, ${what}`, 1e-6);
      });
      // The updates moved the values (not a no-op on either path).
      const start = randomValues(SHAPES[0][0] * SHAPES[0][1], 100);
      assert.ok(actual[0].some((v, k) => v !== start[k]));
    });
  }

  it('falls back on the ops when the kernel is missing (e.g. the cpu backend)', async () => {
    await tf.setBackend('cpu');
    try {
      const values = train({ optimizer: 'adam', learningRate: 1e-2, schedule: 'constant', totalSteps: 2 }, 2, 'cpu ');
      assert.ok(values.every((v) => v.every(Number.isFinite)));
    } finally {
      await tf.setBackend('wasm');
    }
  });
});
