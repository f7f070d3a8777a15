// Every model family trains on the webgpu backend (Dawn on SwiftShader): a few GroupOptimizer Adam
// steps on one batch lower the loss, every loss is finite, and the tensor count stays flat from
// step to step (nothing leaks per step on the GPU path).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../server/engine/engine';
import { GroupOptimizer } from '../../server/method/training/optimizer';
import { buildNet } from '../../server/models';
import { netSpec } from './models-helpers';
import { SWIFTSHADER_ICD, requireWebgpu, swiftshaderFound, useSwiftshaderHere } from './swiftshader';
import { familyBatch, WEBGPU_FAMILIES } from './webgpu-families';

const STEPS = 6;

const skip = swiftshaderFound() ? false : `SwiftShader's Vulkan driver is missing (${SWIFTSHADER_ICD}): apt-get install chromium libvulkan1`;
if (skip && requireWebgpu) throw new Error(skip);

describe('training on webgpu (SwiftShader)', { skip }, () => {
  before(async () => {
    useSwiftshaderHere();
    assert.equal((await initEngine({ backend: 'webgpu' })).active, 'webgpu');
  });

  for (const { label, model, data } of WEBGPU_FAMILIES) {
    it(`${label}: ${STEPS} Adam steps lower the loss, finite, tensor count flat`, async () => {
      assert.equal(tf.getBackend(), 'webgpu');
      const net = buildNet(netSpec(model, data, { factor: 2 }));
      const { x, y } = familyBatch(data, 16);
      const variables = [...net.namedVariables().values()].filter((v) => v.trainable);
      const optimizer = new GroupOptimizer({ optimizer: 'adam', learningRate: 0.01, schedule: 'constant', totalSteps: STEPS }, [{ variables, lrMultiplier: 1 }]);
      const losses: number[] = [];
      const tensorCounts: number[] = [];
      try {
        for (let step = 0; step < STEPS; step++) {
          const loss = tf.tidy(() => {
            const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, net.forward(x, true)) as tf.Scalar, variables);
            optimizer.apply(grads);
            return value;
          });
          losses.push((await loss.data())[0]);
          loss.dispose();
          tensorCounts.push(tf.memory().numTensors);
        }
      } finally {
        optimizer.dispose();
        net.dispose();
        tf.dispose([x, y]);
      }
      assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
      assert.ok(losses[STEPS - 1] < losses[0], `loss did not go down: ${losses.map((l) => l.toFixed(4)).join(' ')}`);
      // The first step creates the optimizer's slots; from then on every step leaves the count as it was.
      assert.deepEqual(tensorCounts.slice(1), new Array(STEPS - 1).fill(tensorCounts[1]), `tensors after each step: ${tensorCounts}`);
    });
  }
});
