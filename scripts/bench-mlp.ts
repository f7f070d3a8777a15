// Training speed of dense ReLU MLPs on the wasm backend (with gowide's gradient kernels), without
// and with the native BLAS kernels (server/engine/native), side by side in one process.
//
//   node --import tsx scripts/bench-mlp.ts [--seconds 3] [--json]
//
// Batch 128, Adam (lr 1e-3), softmax cross-entropy on random data (784 inputs, 10 classes), the
// batches pre-built as tensors; the loss is read back every 10 steps, not every step. For each
// model the configurations run one after the other, swapping the kernels in place. Prints a
// table (the last column: speed-up of the default native configuration), then one JSON line:
// {models: [{name, config, samplesPerSec}], blasThreads, addon}.
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerMissingWasmKernels } from '../server/engine/kernels/wasm-gradients';
import { loadBlasAddon, registerNativeBlasKernels, unregisterNativeBlasKernels } from '../server/engine/native/blas-kernels';
import { benchAdam } from './bench/optimizer';

const BATCH = 128;
const INPUTS = 784;
const CLASSES = 10;
const BATCHES_IN_MEMORY = 8;
const READ_LOSS_EVERY = 10;

const models: Array<{ name: string; depth: number; width: number }> = [
  { name: 'mlp 784-7x256-10', depth: 7, width: 256 },
  { name: 'mlp 784-16x32-10', depth: 16, width: 32 },
  { name: 'mlp 784-16x128-10', depth: 16, width: 128 },
];

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function buildModel(depth: number, width: number): tf.Sequential {
  const model = tf.sequential();
  for (let layer = 0; layer < depth; layer++) {
    model.add(tf.layers.dense({ units: width, activation: 'relu', ...(layer === 0 ? { inputShape: [INPUTS] } : {}) }));
  }
  model.add(tf.layers.dense({ units: CLASSES }));
  return model;
}

/** Samples per second of Adam training steps over `seconds` (after a warm-up). */
function measureTraining(depth: number, width: number, seconds: number): number {
  const model = buildModel(depth, width);
  const optimizer = benchAdam(model.trainableWeights.map((w) => w.read() as tf.Variable));
  const batches = Array.from({ length: BATCHES_IN_MEMORY }, () => ({
    x: tf.randomNormal([BATCH, INPUTS]),
    y: tf.oneHot(tf.randomUniform([BATCH], 0, CLASSES, 'int32') as tf.Tensor1D, CLASSES),
  }));
  const step = (index: number, readLoss: boolean): void => {
    const { x, y } = batches[index % BATCHES_IN_MEMORY];
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar,
      readLoss,
    );
    if (loss) {
      const value = loss.dataSync()[0];
      loss.dispose();
      if (!Number.isFinite(value)) throw new Error(`loss is ${value}`);
    }
  };
  for (let i = 0; i < 3; i++) step(i, true); // warm-up: optimizer slots, kernel setup
  const tensorsBefore = tf.memory().numTensors;
  let steps = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    for (let i = 0; i < READ_LOSS_EVERY; i++, steps++) step(steps, i === READ_LOSS_EVERY - 1);
  }
  const elapsed = (performance.now() - start) / 1000;
  if (tf.memory().numTensors !== tensorsBefore) {
    throw new Error(`tensor count grew from ${tensorsBefore} to ${tf.memory().numTensors}`);
  }
  batches.forEach(({ x, y }) => tf.dispose([x, y]));
  optimizer.dispose();
  model.dispose();
  return (steps * BATCH) / elapsed;
}

interface Configuration {
  name: string;
  apply: () => void;
}

async function main(): Promise<void> {
  const seconds = Number(argument('--seconds') ?? 3);
  setWasmPaths(path.resolve(__dirname, '../node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  registerMissingWasmKernels();
  await tf.setBackend('wasm');
  await tf.ready();

  const load = loadBlasAddon();
  const configurations: Configuration[] = [{ name: 'wasm', apply: () => unregisterNativeBlasKernels() }];
  let blasThreads = 0;
  if (load.ok) {
    blasThreads = load.addon.getThreads();
    const withThreads = (threads: number): Configuration => ({
      name: `wasm+native(${threads}t)`,
      apply: () => {
        const registration = registerNativeBlasKernels();
        if (!registration.ok) throw new Error(registration.reason);
        load.addon.setThreads(threads);
      },
    });
    configurations.push(withThreads(blasThreads));
    configurations.push(withThreads(blasThreads === 1 ? 2 : 1));
  } else {
    console.log(`native kernels not measured: ${load.reason}`);
  }

  const results: Array<{ name: string; config: string; samplesPerSec: number }> = [];
  console.log(`batch ${BATCH}, Adam, ${seconds} s per measurement; OpenBLAS threads by default: ${blasThreads || 'n/a'} (GOWIDE_BLAS_THREADS)`);
  console.log(['model'.padEnd(20), ...configurations.map((c) => c.name.padStart(18))].join(''));
  for (const { name, depth, width } of models) {
    const row: number[] = [];
    for (const configuration of configurations) {
      configuration.apply();
      const samplesPerSec = measureTraining(depth, width, seconds);
      row.push(samplesPerSec);
      results.push({ name, config: configuration.name, samplesPerSec: Math.round(samplesPerSec) });
    }
    const speedup = row.length > 1 ? `   x${(row[1] / row[0]).toFixed(1)}` : '';
    console.log([name.padEnd(20), ...row.map((value) => value.toFixed(0).padStart(18))].join('') + speedup);
  }
  if (load.ok) load.addon.setThreads(blasThreads);
  console.log(JSON.stringify({ models: results, blasThreads, addon: load.ok ? load.path : null }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
