// tfjs-node(-gpu) loads its own copy of tfjs-core from node_modules, while our code uses the copy
// bundled into dist/cli.js. This checks the fact the engine relies on: two copies of tfjs-core share
// one backend and kernel registry (tfjs-core keeps them on globalThis).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';

test('a second copy of tfjs-core registers backends and kernels into the same registry', () => {
  const require = createRequire(__filename);
  const corePath = require.resolve('@tensorflow/tfjs-core');
  // Evaluate tfjs-core a second time, as a separate module instance.
  const cached = require.cache[corePath];
  delete require.cache[corePath];
  const secondCopy = require(corePath) as typeof import('@tensorflow/tfjs-core');
  if (cached) require.cache[corePath] = cached;
  assert.notEqual(secondCopy.registerBackend, tf.registerBackend, 'the test needs two distinct module copies');

  const backendName = `gowide-shared-${process.pid}`;
  secondCopy.registerBackend(backendName, () => tf.findBackend('cpu')!);
  assert.ok(tf.findBackendFactory(backendName), 'backend registered by the second copy is visible to ours');

  const kernelName = `GowideSharedKernel${process.pid}`;
  secondCopy.registerKernel({ kernelName, backendName, kernelFunc: () => [] });
  assert.ok(tf.getKernel(kernelName, backendName), 'kernel registered by the second copy is visible to ours');
  tf.unregisterKernel(kernelName, backendName);
  tf.removeBackend(backendName);
});
