// Training throughput of a small CNN on the TF.js wasm backend (with the kernels from
// server/engine/kernels/wasm-gradients.ts) and on the pure-JS cpu backend, side by side.
//
//   node --import tsx scripts/bench-conv.ts [--seconds 10] [--cpu-seconds 20] [--batch 128]
//
// Model (the reference "CNN" of issue 6): 28x28x1 -> conv 3x3 16 'same' + relu -> maxpool 2
// -> conv 3x3 16 'same' + relu -> maxpool 2 -> dense 10; softmax cross-entropy; Adam; batch 128.
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerMissingWasmKernels } from '../server/engine/kernels/wasm-gradients';

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const batchSize = argument('batch', 128);
const wasmSeconds = argument('seconds', 10);
const cpuSeconds = argument('cpu-seconds', 20);

function buildModel(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

/** Trains for about `seconds` (at least 2 timed steps after 2 warm-up steps); returns samples/s. */
async function measure(backendName: 'wasm' | 'cpu', seconds: number): Promise<{ samplesPerSec: number; steps: number; finalLoss: number }> {
  await tf.setBackend(backendName);
  await tf.ready();
  const model = buildModel();
  const optimizer = tf.train.adam(1e-3);
  const images = tf.randomUniform([batchSize, 28, 28, 1]);
  const labels = tf.oneHot(tf.randomUniform([batchSize], 0, 10, 'int32') as tf.Tensor1D, 10);
  const step = (): tf.Scalar =>
    optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(labels, model.apply(images) as tf.Tensor) as tf.Scalar,
      true,
    ) as tf.Scalar;

  const warmupSteps = backendName === 'cpu' ? 1 : 2;
  for (let i = 0; i < warmupSteps; i++) tf.dispose(step());
  const tensorsBefore = tf.memory().numTensors;
  let steps = 0;
  let lastLoss: tf.Scalar | null = null;
  const start = performance.now();
  while (steps < 2 || performance.now() - start < seconds * 1000) {
    if (lastLoss) lastLoss.dispose();
    lastLoss = step();
    steps++;
    // Read a loss back now and then, not every step (a readback forces synchronization).
    if (steps % 10 === 0) await lastLoss.data();
  }
  const finalLoss = (await lastLoss!.data())[0];
  const elapsed = (performance.now() - start) / 1000;
  lastLoss!.dispose();
  const leaked = tf.memory().numTensors - tensorsBefore;
  if (leaked > 0) console.warn(`${backendName}: ${leaked} tensors leaked during the timed steps`);
  tf.dispose([images, labels]);
  optimizer.dispose();
  model.dispose();
  return { samplesPerSec: (steps * batchSize) / elapsed, steps, finalLoss };
}

async function main(): Promise<void> {
  setWasmPaths(path.resolve(__dirname, '../node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  const registered = registerMissingWasmKernels();
  console.log(`wasm kernels registered: ${registered.join(', ')}`);
  const wasm = await measure('wasm', wasmSeconds);
  console.log(`wasm + kernels: ${wasm.samplesPerSec.toFixed(0)} samples/s (${wasm.steps} steps, loss ${wasm.finalLoss.toFixed(3)})`);
  const cpu = cpuSeconds > 0 ? await measure('cpu', cpuSeconds) : null;
  if (cpu) console.log(`cpu (pure JS):  ${cpu.samplesPerSec.toFixed(1)} samples/s (${cpu.steps} steps, loss ${cpu.finalLoss.toFixed(3)})`);
  const result = {
    model: 'cnn-2conv-16ch-28x28',
    batchSize,
    wasmSamplesPerSec: Math.round(wasm.samplesPerSec),
    cpuSamplesPerSec: cpu ? Number(cpu.samplesPerSec.toFixed(1)) : null,
    torchReferenceSamplesPerSec: 4300,
  };
  console.log(JSON.stringify(result));
}

void main();
