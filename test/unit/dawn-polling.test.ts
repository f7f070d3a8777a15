// While a read-back waits for the GPU, Dawn polls on a timer (server/engine/dawn-polling.ts), not in a
// setImmediate spin: measured on SwiftShader through the real webgpu backend, its polls are counted
// per millisecond of waiting. Spinning, they ran at tens per millisecond.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../server/engine/engine';
import { SWIFTSHADER_ICD, requireWebgpu, swiftshaderFound, useSwiftshaderHere } from './swiftshader';

const skip = swiftshaderFound() ? false : `SwiftShader's Vulkan driver is missing (${SWIFTSHADER_ICD}): apt-get install chromium libvulkan1`;
if (skip && requireWebgpu) throw new Error(skip);

describe("Dawn's polling on webgpu (SwiftShader)", { skip }, () => {
  before(async () => {
    useSwiftshaderHere();
    assert.equal((await initEngine({ backend: 'webgpu' })).active, 'webgpu');
  });

  it('a read-back that waits polls at most about once a millisecond, and a JS setImmediate runs as before', async () => {
    const routed = globalThis.setImmediate;
    let polls = 0;
    globalThis.setImmediate = ((callback: (...args: unknown[]) => void, ...args: unknown[]) => {
      if (callback.name === '' && Function.prototype.toString.call(callback).includes('[native code]')) polls++;
      return routed(callback, ...args);
    }) as typeof setImmediate;
    try {
      const a = tf.randomNormal([256, 256], 0, 1, 'float32', 1);
      // Enough queued work that the read waits (tens of milliseconds on SwiftShader).
      let product = a;
      for (let i = 0; i < 8; i++) {
        const next = tf.tidy(() => tf.div(tf.matMul(product, a), 16));
        if (product !== a) product.dispose();
        product = next;
      }
      const started = performance.now();
      const values = await product.data();
      const waited = performance.now() - started;
      tf.dispose([a, product]);
      assert.ok(values.every(Number.isFinite));
      assert.ok(polls >= 1, 'the read went through Dawn polling');
      assert.ok(polls <= waited + 10, `${polls} polls in ${waited.toFixed(1)} ms of waiting`);
      const order: string[] = [];
      await new Promise<void>((resolve) => setImmediate(() => (order.push('immediate'), resolve())));
      assert.deepEqual(order, ['immediate']);
    } finally {
      globalThis.setImmediate = routed;
    }
  });
});
