// Every family on the wasm backend (with gowide's extra wasm gradient kernels): the same seed gives
// the same logits as on cpu, Adam steps reduce the loss, and a step leaks no tensors.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { registerMissingWasmKernels } from '../../server/engine/kernels/wasm-gradients';
import { buildNet } from '../../server/models';
import type { DataShape, NetSpec } from '../../server/models';
import { assertNoLeakInStep, fitBatch, modelConfig, netSpec, randomBatch, useBackend } from './models-helpers';

const image: DataShape = { exampleShape: [8, 8, 1], numClasses: 3 };
const sequence: DataShape = { exampleShape: [6], numClasses: 3, vocabSize: 11 };
const specs: NetSpec[] = [
  netSpec(modelConfig({ family: 'mlp', depth: 3, width: 8 }), image, { factor: 2 }),
  netSpec(modelConfig({ family: 'cnn', depth: 3, width: 4, downsampleAt: [0] }), image, { factor: 2 }),
  netSpec(modelConfig({ family: 'resnet', depth: 2, width: 8, downsampleAt: [1] }), image, { factor: 2, mode: 'inside' }),
  netSpec(modelConfig({ family: 'transformer', depth: 2, width: 8, heads: 2 }), sequence, { factor: 2 }),
  netSpec(modelConfig({ family: 'transformer', depth: 2, width: 8, heads: 2, patchSize: 4 }), image, { factor: 2 }),
];

let wasmReady = false;
before(async () => {
  wasmReady = (await useBackend('wasm')) === 'wasm';
  registerMissingWasmKernels();
});

for (const spec of specs) {
  const label = spec.family === 'transformer' && spec.data === image ? 'transformer on images' : spec.family;
  test(`${label} on wasm: same logits as cpu, trains, no leaks`, async (t) => {
    if (!wasmReady) return t.skip('wasm backend unavailable');
    await useBackend('cpu');
    const cpuBatch = randomBatch(spec.data, 8);
    const cpuNet = buildNet(spec);
    const cpuLogits = tf.tidy(() => Array.from(cpuNet.forward(cpuBatch.x, false).dataSync()));
    const x = Array.from(cpuBatch.x.dataSync());
    const y = Array.from(cpuBatch.y.dataSync());
    const [xShape, yShape] = [cpuBatch.x.shape, cpuBatch.y.shape];
    cpuNet.dispose();
    cpuBatch.x.dispose();
    cpuBatch.y.dispose();

    await useBackend('wasm');
    const net = buildNet(spec);
    const batch = { x: tf.tensor(x, xShape), y: tf.tensor(y, yShape) };
    try {
      const logits = tf.tidy(() => Array.from(net.forward(batch.x, false).dataSync()));
      const maxDiff = Math.max(...logits.map((v, i) => Math.abs(v - cpuLogits[i])));
      assert.ok(maxDiff < 1e-3, `wasm and cpu logits differ by ${maxDiff}`);
      const { before: start, after: end } = fitBatch(net, batch.x, batch.y, 15);
      assert.ok(end < start, `loss ${start} -> ${end}`);
      assertNoLeakInStep(net, batch.x, batch.y);
    } finally {
      net.dispose();
      batch.x.dispose();
      batch.y.dispose();
    }
  });
}
