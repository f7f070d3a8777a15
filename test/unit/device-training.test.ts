// Training that suits a GPU, on wasm: the checks of device-training.ts (batches cut on the device equal
// the per-batch upload, one loss read per window, a NaN named by its step, memory flat across epochs).
import { test } from 'node:test';
import { assertDivergenceNamed, assertFlatAcrossEpochs, assertReadsPerWindow, assertSameBatches } from './device-training';
import { useWasm } from './method-fixtures';

test('wasm: batches cut from the split on the device equal the batches sent one by one, epoch after epoch', async () => {
  await useWasm();
  await assertSameBatches();
});

test('wasm: a training phase reads its losses back at most once per window of readEvery steps', async () => {
  await useWasm();
  await assertReadsPerWindow(45, 10);
  await assertReadsPerWindow(7, 3);
});

test('wasm: a NaN loss read back in a batch still stops the phase at its own step, nothing left pending', async () => {
  await useWasm();
  await assertDivergenceNamed(13, 5);
});

test('wasm: tensor count and bytes are flat across epochs of the training loop (the data stays in host memory)', async () => {
  await useWasm();
  await assertFlatAcrossEpochs(false);
});
