// Training that suits a GPU, on the webgpu backend through SwiftShader (no GPU needed): the checks of
// device-training.ts where a GPU makes them matter: batches cut on the device, one loss read per
// window, tensors and GPU bytes flat across epochs. (SwiftShader compiles every new shader slowly:
// the NaN check, the same code on any backend, runs on wasm only.)
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadWebgpuBackend } from '../../server/engine/webgpu';
import { assertFlatAcrossEpochs, assertReadsPerWindow, assertSameBatches } from './device-training';
import { swiftshaderOrSkip, useSwiftshaderHere } from './swiftshader';

before(async () => {
  if (!useSwiftshaderHere()) return;
  await loadWebgpuBackend();
  if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed on SwiftShader');
});

const onWebgpu = (name: string, body: () => Promise<void>) =>
  test(`webgpu (SwiftShader): ${name}`, { timeout: 120_000 }, async (t) => {
    if (!swiftshaderOrSkip(t)) return;
    await body();
  });

onWebgpu('batches cut from the split on the device equal the batches sent one by one', assertSameBatches);
onWebgpu('a training phase reads its losses back at most once per window of readEvery steps', () => assertReadsPerWindow(25, 10));
onWebgpu('tensor count, bytes and GPU bytes are flat across epochs of the training loop, the data on the GPU', () => assertFlatAcrossEpochs(true));

