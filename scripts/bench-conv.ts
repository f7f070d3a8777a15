// Training throughput of CNNs on the TF.js wasm backend, before and after gowide's native conv
// kernels, side by side in one run; optionally a per-kernel time profile of one training step.
//
//   node --import tsx scripts/bench-conv.ts [--seconds 8] [--batch 128] [--models 2conv,thin,wide]
//        [--profile] [--no-native-conv] [--json]
//   node --import tsx scripts/bench-conv.ts --kernels    (per-kernel times per shape class instead)
//
// Arms (same process, same models and data):
//   before: wasm + gowide's XNNPACK-composed gradient kernels (wasm-gradients.ts) + native
//           BatchMatMul/_FusedMatMul (blas-kernels.ts), without the native conv kernels;
//   after:  the same plus the native conv kernels (conv-kernels.ts). --no-native-conv (or
//           GOWIDE_NATIVE_CONV=0) measures "before" only.
// Models (batch 128, softmax cross-entropy, Adam 1e-3, random 28x28x1 images):
//   2conv: conv 3x3 16 'same' relu, maxpool 2, conv 3x3 16 relu, maxpool 2, dense 10 (issue 6's CNN)
//   thin / wide: 8 conv 3x3 'same' layers of 16 / 64 channels, relu, maxpool 2 after layers 2 and
//           5, global average pool, dense 10 (the evidence study's CNNs)
// --profile prints, per arm and model, the time of each top-level kernel over a few training
// steps (nested kernel calls are counted in their caller).
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerMissingWasmKernels } from '../server/engine/kernels/wasm-gradients';
import { timeWasmKernels } from './bench/kernel-timers';
import { benchAdam } from './bench/optimizer';
import {
  registerNativeBlasKernels,
  registerNativeConvKernels,
  unregisterNativeConvKernels,
} from '../server/engine/native/blas-kernels';

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}
function stringArgument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

const batchSize = argument('batch', 128);
const seconds = argument('seconds', 8);
const modelNames = stringArgument('models', '2conv,thin,wide').split(',');
const profile = process.argv.includes('--profile');
const jsonOnly = process.argv.includes('--json');
const nativeConvOff = process.argv.includes('--no-native-conv') || process.env.GOWIDE_NATIVE_CONV === '0';
const log = (message: string): void => {
  if (!jsonOnly) console.log(message);
};

function buildModel(name: string): tf.LayersModel {
  if (name === '2conv') {
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
  const channels = name === 'wide' ? 64 : 16;
  const layers: tf.layers.Layer[] = [];
  for (let i = 0; i < 8; i++) {
    layers.push(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [28, 28, 1] } : {}),
        filters: channels,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
      }),
    );
    if (i === 1 || i === 4) layers.push(tf.layers.maxPooling2d({ poolSize: 2 }));
  }
  layers.push(tf.layers.globalAveragePooling2d({}));
  layers.push(tf.layers.dense({ units: 10 }));
  return tf.sequential({ layers });
}

// ---------------------------------------------------------------------------------------------

interface Measurement {
  samplesPerSec: number;
  steps: number;
  finalLoss: number;
}

async function measure(modelName: string, arm: string): Promise<Measurement> {
  const model = buildModel(modelName);
  const optimizer = benchAdam(model.trainableWeights.map((w) => w.read() as tf.Variable));
  const images = tf.randomUniform([batchSize, 28, 28, 1]);
  const labels = tf.oneHot(tf.randomUniform([batchSize], 0, 10, 'int32') as tf.Tensor1D, 10);
  const step = (): tf.Scalar =>
    optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(labels, model.apply(images) as tf.Tensor) as tf.Scalar,
      true,
    ) as tf.Scalar;

  for (let i = 0; i < 2; i++) tf.dispose(step());
  if (profile) {
    const profileSteps = 3;
    const timer = timeWasmKernels();
    const start = performance.now();
    for (let i = 0; i < profileSteps; i++) tf.dispose(step());
    const total = (performance.now() - start) / profileSteps;
    timer.stop();
    const rows = [...timer.times.entries()].sort((a, b) => b[1].ms - a[1].ms);
    const inKernels = rows.reduce((sum, [, entry]) => sum + entry.ms, 0) / profileSteps;
    log(`  profile ${modelName} (${arm}): ${total.toFixed(1)} ms per step, ${inKernels.toFixed(1)} ms in kernels`);
    for (const [name, entry] of rows.slice(0, 14)) {
      const ms = entry.ms / profileSteps;
      log(`    ${name.padEnd(24)} ${ms.toFixed(1).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${entry.calls / profileSteps} calls`);
    }
  }
  const tensorsBefore = tf.memory().numTensors;
  let steps = 0;
  let lastLoss: tf.Scalar | null = null;
  const start = performance.now();
  while (steps < 3 || performance.now() - start < seconds * 1000) {
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
  if (leaked > 0) console.warn(`${modelName}: ${leaked} tensors leaked during the timed steps`);
  tf.dispose([images, labels]);
  optimizer.dispose();
  model.dispose();
  return { samplesPerSec: (steps * batchSize) / elapsed, steps, finalLoss };
}

// ---------------------------------------------------------------------------------------------
// --kernels: each conv kernel alone, XNNPACK(-composed) vs native, per shape class.

type Shape4 = [number, number, number, number];
const shapeClasses: Array<{ name: string; x: Shape4; filter: Shape4; stride: number; pad: 'same' | 'valid' }> = [
  { name: '28x28 1->16 3x3', x: [128, 28, 28, 1], filter: [3, 3, 1, 16], stride: 1, pad: 'same' },
  { name: '28x28 16->16 3x3', x: [128, 28, 28, 16], filter: [3, 3, 16, 16], stride: 1, pad: 'same' },
  { name: '14x14 16->16 3x3', x: [128, 14, 14, 16], filter: [3, 3, 16, 16], stride: 1, pad: 'same' },
  { name: '28x28 1->64 3x3', x: [128, 28, 28, 1], filter: [3, 3, 1, 64], stride: 1, pad: 'same' },
  { name: '28x28 64->64 3x3', x: [128, 28, 28, 64], filter: [3, 3, 64, 64], stride: 1, pad: 'same' },
  { name: '14x14 64->64 3x3', x: [128, 14, 14, 64], filter: [3, 3, 64, 64], stride: 1, pad: 'same' },
  { name: '7x7 64->64 3x3', x: [128, 7, 7, 64], filter: [3, 3, 64, 64], stride: 1, pad: 'same' },
  { name: '14x14 32->64 3x3 s2', x: [128, 14, 14, 32], filter: [3, 3, 32, 64], stride: 2, pad: 'same' },
  { name: '14x14 32->64 1x1 s2', x: [128, 14, 14, 32], filter: [1, 1, 32, 64], stride: 2, pad: 'valid' },
  { name: '14x14 64->64 1x1', x: [128, 14, 14, 64], filter: [1, 1, 64, 64], stride: 1, pad: 'same' },
  { name: '28x28 16->16 5x5', x: [128, 28, 28, 16], filter: [5, 5, 16, 16], stride: 1, pad: 'same' },
];

function timeKernel(run: () => tf.Tensor, repeats = 5): number {
  tf.dispose(run());
  const start = performance.now();
  for (let i = 0; i < repeats; i++) {
    const out = run();
    out.dataSync();
    out.dispose();
  }
  return (performance.now() - start) / repeats;
}

function kernelTable(): void {
  log('ms per call (batch 128)                  Conv2D           BackpropFilter   BackpropInput');
  log('                                   xnnpack  native  xnnpack  native  xnnpack  native');
  for (const shape of shapeClasses) {
    const x = tf.randomNormal(shape.x) as tf.Tensor4D;
    const filter = tf.randomNormal(shape.filter) as tf.Tensor4D;
    const y = tf.conv2d(x, filter, shape.stride, shape.pad);
    const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
    const attrs = { strides: [shape.stride, shape.stride], pad: shape.pad, dataFormat: 'NHWC', dilations: [1, 1] };
    const runs = [
      () => tf.engine().runKernel('Conv2D', { x, filter }, attrs) as tf.Tensor,
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: shape.filter }) as tf.Tensor,
      () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: shape.x }) as tf.Tensor,
    ];
    const cells: string[] = [];
    for (const run of runs) {
      unregisterNativeConvKernels();
      const before = timeKernel(run);
      registerNativeConvKernels();
      const after = timeKernel(run);
      cells.push(before.toFixed(1).padStart(8), after.toFixed(1).padStart(7));
    }
    log(`${shape.name.padEnd(30)} ${cells.join(' ')}`);
    tf.dispose([x, filter, y, dy]);
  }
}

async function main(): Promise<void> {
  setWasmPaths(path.resolve(__dirname, '../node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  registerMissingWasmKernels();
  const blas = registerNativeBlasKernels();
  log(`native BLAS: ${blas.ok ? blas.kernels.join(', ') : blas.reason}`);
  await tf.setBackend('wasm');
  await tf.ready();

  if (process.argv.includes('--kernels')) {
    kernelTable();
    return;
  }
  const results: Array<{ model: string; beforeSamplesPerSec: number; afterSamplesPerSec: number | null }> = [];
  for (const modelName of modelNames) {
    unregisterNativeConvKernels();
    const before = await measure(modelName, 'before');
    log(`${modelName}: before ${before.samplesPerSec.toFixed(0)} samples/s (${before.steps} steps, loss ${before.finalLoss.toFixed(3)})`);
    let after: Measurement | null = null;
    if (!nativeConvOff) {
      const conv = registerNativeConvKernels();
      if (!conv.ok) {
        log(`native conv kernels: ${conv.reason}`);
      } else {
        after = await measure(modelName, 'after');
        log(
          `${modelName}: after  ${after.samplesPerSec.toFixed(0)} samples/s (${after.steps} steps, loss ${after.finalLoss.toFixed(3)}), ` +
            `${(after.samplesPerSec / before.samplesPerSec).toFixed(2)}x`,
        );
      }
    }
    results.push({
      model: modelName,
      beforeSamplesPerSec: Math.round(before.samplesPerSec),
      afterSamplesPerSec: after ? Math.round(after.samplesPerSec) : null,
    });
  }
  console.log(JSON.stringify({ batchSize, models: results }));
}

void main();
