// Where a training step of a bench reference model spends its time on the wasm+native backend:
// every registered wasm kernel is wrapped with a timer (tf.profile overflows the stack on these
// models). Reports, per kernel name, the time of top-level calls (a composed kernel's inner calls
// count in its caller) and the share of the step spent outside kernels (autodiff, tape, JS glue).
//
//   node --import tsx scripts/bench-profile.ts [--models resnet,transformer] [--steps 3]
//        [--top 25] [--shapes] [--cpu] [--off FEATURES]
//   node --import tsx scripts/bench-profile.ts --ab grad,elementwise [--rounds 3] [--seconds 4]
//
// --ab: side-by-side samples/s instead of a profile: "before" with the named features off, "after"
// with them on, alternating (rounds x seconds each, after a warm-up), medians and their ratio.
// Features: kernel:Name (gowide's wasm kernel vs TF.js's), grad:Name (gowide's gradient vs
// TF.js's), grad (all of ../server/engine/kernels/gradients.ts), elementwise (native Tile, Sum,
// Mean, binary ops, batch norm and its gradient), env:NAME=VALUE ("before" with the environment
// variable set, e.g. env:GOWIDE_POOL_THREADS=1), adam (gowide's fused Adam kernel vs GroupOptimizer's
// Adam of TF.js ops), tf-adam ("before" trains with tf.train.adam, as the bench did before it used
// GroupOptimizer), batchnorm and layernorm (server/models' BatchNorm / LayerNorm layers through
// the fused ops vs tf.layers' ops), plainconv (server/models' PlainConv2D vs tf.layers' Conv2D call),
// gelu (the 'gelu' activation as GowideGelu and GowideGeluGrad vs tf.layers' ops), bnrelu (BatchNorm + ReLU as
// GowideBatchNormReluTrain and its gradient vs the fused BatchNorm then the ReLU kernels), movingavg
// (BatchNorm's moving averages as GowideMovingAverages vs Sub, Mul, Sub for each), attention
// (the transformer's attention core as GowideAttention and its gradient vs TF.js's ops), addrelu
// (the resnet's residual add and ReLU as GowideAddRelu vs the Add and Relu kernels), addnorm (the
// transformer's residual add and LayerNorm as GowideAddLayerNorm vs Add then GowideLayerNorm), dense
// (server/models' Dense layers in training as GowideDense vs TF.js's MatMul, Add and Relu), conv (a
// conv layer with a bias or ReLU in training as GowideConv vs TF.js's Conv2D, Add and Relu).
//
// --models: comma-separated names of scripts/bench/models.ts, 'name*' for a prefix (default: the
// thin 'resnet 6x16' and 'transformer 4x32 seq32'). --shapes also breaks each kernel down by input
// shapes; --cpu measures CPU time (all threads) instead of wall time, steadier under other load;
// --off profiles with the named --ab features off.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { getGradient, getKernel, getKernelsForBackend, registerGradient, registerKernel, unregisterGradient, unregisterKernel } from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs-core';
import { prepareWasmBackend } from '../server/engine/wasm';
import { registerFastGradients, unregisterFastGradients } from '../server/engine/kernels/gradients';
import { DENSE, loadBlasAddon } from '../server/engine/native/blas-kernels';
import { CONV } from '../server/engine/native/conv-kernels';
import { ADAM_STEP, ADD_LAYER_NORM, ADD_LAYER_NORM_GRAD, ADD_RELU, MOVING_AVERAGES, BATCH_NORM_RELU_TRAIN, BATCH_NORM_RELU_TRAIN_GRAD, BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, GELU, GELU_GRAD, LAYER_NORM, LAYER_NORM_GRAD, registerElementwiseKernels, unregisterElementwiseKernels } from '../server/engine/native/elementwise-kernels';
import { inputShapes, timeWasmKernels } from './bench/kernel-timers';
import { benchModels, randomBatches } from './bench/models';
import type { BenchModel } from './bench/models';
import { benchAdam } from './bench/optimizer';
import { PlainConv2D } from '../server/models/conv-layer';
import { ATTENTION, ATTENTION_GRAD } from '../server/engine/native/attention-kernels';

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}
const prefixes = (option('models') ?? 'resnet 6x16,transformer 4x32 seq32').split(',');
const steps = Number(option('steps') ?? 3);
const top = Number(option('top') ?? 25);
const byShapes = process.argv.includes('--shapes');
/** --cpu: profile in CPU time of the process (user + system, ms) instead of wall time. */
const clock = process.argv.includes('--cpu')
  ? () => {
      const usage = process.cpuUsage();
      return (usage.user + usage.system) / 1000;
    }
  : () => performance.now();
const abFeatures = option('ab')?.split(',');
const rounds = Number(option('rounds') ?? 3);
const seconds = Number(option('seconds') ?? 4);

// TF.js's own wasm kernels and gradients, before gowide registers anything (see main()).
const originalKernels = new Map<string, KernelConfig>();
const originalGradients = new Map<string, GradConfig | undefined>();
const oursKernels = new Map<string, KernelConfig>();
const oursGradients = new Map<string, GradConfig | undefined>();

function putKernel(name: string, config: KernelConfig | undefined): void {
  if (getKernel(name, 'wasm') != null) unregisterKernel(name, 'wasm');
  if (config != null) registerKernel(config);
}

function putGradient(name: string, config: GradConfig | undefined): void {
  unregisterGradient(name);
  if (config != null) registerGradient(config);
}

/**
 * What --ab switches: "kernel:Name" (gowide's wasm kernel vs TF.js's own), "grad:Name" (gowide's
 * gradient vs TF.js's), "grad" (all of gowide's gradients), "elementwise" (the native element-wise kernels).
 */
function feature(name: string): { on(): void; off(): void } {
  const [kind, kernelName] = name.split(':');
  if (kind === 'kernel' && kernelName) {
    return { on: () => putKernel(kernelName, oursKernels.get(kernelName)), off: () => putKernel(kernelName, originalKernels.get(kernelName)) };
  }
  if (kind === 'grad' && kernelName) {
    return { on: () => putGradient(kernelName, oursGradients.get(kernelName)), off: () => putGradient(kernelName, originalGradients.get(kernelName)) };
  }
  if (kind === 'env' && kernelName?.includes('=')) {
    // env:NAME=VALUE: "before" runs with the variable set to VALUE, "after" with it as it was.
    const [variable, value] = kernelName.split('=');
    const original = process.env[variable];
    return {
      on: () => (original === undefined ? delete process.env[variable] : (process.env[variable] = original)),
      off: () => (process.env[variable] = value),
    };
  }
  if (name === 'adam') return feature(`kernel:${ADAM_STEP}`);
  const fusedKernels: Record<string, string[]> = {
    batchnorm: [BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD],
    layernorm: [LAYER_NORM, LAYER_NORM_GRAD],
    gelu: [GELU, GELU_GRAD],
    bnrelu: [BATCH_NORM_RELU_TRAIN, BATCH_NORM_RELU_TRAIN_GRAD],
    movingavg: [MOVING_AVERAGES],
    attention: [ATTENTION, ATTENTION_GRAD],
    addrelu: [ADD_RELU],
    addnorm: [ADD_LAYER_NORM, ADD_LAYER_NORM_GRAD],
    dense: [DENSE],
    conv: [CONV],
  };
  if (name in fusedKernels) {
    const kernels = fusedKernels[name].map((kernelName) => feature(`kernel:${kernelName}`));
    return { on: () => kernels.forEach((k) => k.on()), off: () => kernels.forEach((k) => k.off()) };
  }
  if (name === 'plainconv') {
    const ours = PlainConv2D.prototype.call;
    const standard = (Object.getPrototypeOf(PlainConv2D.prototype) as typeof PlainConv2D.prototype).call;
    return { on: () => (PlainConv2D.prototype.call = ours), off: () => (PlainConv2D.prototype.call = standard) };
  }
  if (name === 'tf-adam') return { on: () => (useTfAdam = false), off: () => (useTfAdam = true) };
  if (name === 'grad') return { on: () => void registerFastGradients(), off: () => void unregisterFastGradients() };
  if (name === 'elementwise') {
    return {
      on: () => {
        const load = loadBlasAddon();
        if (!load.ok) throw new Error(load.reason);
        const result = registerElementwiseKernels(load.addon, load.path);
        if (!result.ok) throw new Error(result.reason);
      },
      off: () => void unregisterElementwiseKernels(),
    };
  }
  throw new Error(`unknown --ab feature ${name}`);
}

/** --ab tf-adam: the "before" arm trains with tf.train.adam instead of gowide's GroupOptimizer. */
let useTfAdam = false;

/** A training step of the model on its first random batch, the loss read back. */
function trainer(model: BenchModel) {
  const built = model.build();
  const optimizer = benchAdam(built.variables);
  const tfAdam = tf.train.adam(1e-3);
  const [{ x, y }] = randomBatches(model.data, 1);
  return {
    step(): number {
      const f = () => tf.losses.softmaxCrossEntropy(y, built.forward(x)) as tf.Scalar;
      const loss = useTfAdam ? tfAdam.minimize(f, true, built.variables)! : optimizer.minimize(f, true)!;
      const value = loss.dataSync()[0];
      loss.dispose();
      return value;
    },
    dispose(): void {
      tf.dispose([x, y]);
      optimizer.dispose();
      tfAdam.dispose();
      built.dispose();
    },
  };
}

/** Wall-clock samples/s, and CPU ms per step (user + system, all threads: less sensitive to other load). */
function samplesPerSecond(step: () => number): { wall: number; cpuMs: number } {
  let steps = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  while (steps < 2 || performance.now() - start < seconds * 1000) {
    step();
    steps++;
  }
  const cpu = process.cpuUsage(cpuStart);
  return { wall: (steps * 128 * 1000) / (performance.now() - start), cpuMs: (cpu.user + cpu.system) / 1000 / steps };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function sideBySide(model: BenchModel, features: string[]): void {
  const switches = features.map(feature);
  const setAll = (on: boolean) => switches.forEach((f) => (on ? f.on() : f.off()));
  const run = trainer(model);
  const before: Array<{ wall: number; cpuMs: number }> = [];
  const after: Array<{ wall: number; cpuMs: number }> = [];
  try {
    for (const on of [false, true]) {
      setAll(on);
      run.step(); // warm-up of each arm
    }
    for (let round = 0; round < rounds; round++) {
      for (const on of round % 2 === 0 ? [false, true] : [true, false]) {
        setAll(on);
        (on ? after : before).push(samplesPerSecond(() => run.step()));
      }
    }
  } finally {
    setAll(true);
    run.dispose();
  }
  const wall = (runs: typeof before) => runs.map((r) => r.wall);
  const cpu = (runs: typeof before) => runs.map((r) => r.cpuMs);
  const [b, a] = [median(wall(before)), median(wall(after))];
  const [bc, ac] = [median(cpu(before)), median(cpu(after))];
  console.log(
    `${model.name}: before (${features.join('+')} off) ${b.toFixed(1)} samples/s [${wall(before).map((v) => v.toFixed(0)).join(' ')}], ` +
      `after ${a.toFixed(1)} [${wall(after).map((v) => v.toFixed(0)).join(' ')}]: ${(a / b).toFixed(2)}x; ` +
      `CPU ms/step ${bc.toFixed(1)} -> ${ac.toFixed(1)}: ${(bc / ac).toFixed(2)}x`,
  );
}

async function main(): Promise<void> {
  const gradientNames = ['Tile', 'FusedBatchNorm', 'Erf', 'Relu', 'Square', 'Sum', 'Mean'];
  for (const config of getKernelsForBackend('wasm')) originalKernels.set(config.kernelName, config);
  for (const name of gradientNames) originalGradients.set(name, getGradient(name));
  prepareWasmBackend();
  for (const config of getKernelsForBackend('wasm')) oursKernels.set(config.kernelName, config);
  for (const name of gradientNames) oursGradients.set(name, getGradient(name));
  await tf.setBackend('wasm');
  await tf.ready();
  if (abFeatures) {
    const chosen = benchModels().filter((m) => prefixes.some((p) => m.name === p || (p.endsWith('*') && m.name.startsWith(p.slice(0, -1)))));
    for (const model of chosen) sideBySide(model, abFeatures);
    return;
  }
  // --off FEATURES: profile with those --ab features off ("before").
  for (const name of option('off')?.split(',') ?? []) feature(name).off();
  // A name that matches a model exactly selects only that one; otherwise names are prefixes.
  const selected = benchModels().filter((m) => prefixes.some((p) => m.name === p || (p.endsWith('*') && m.name.startsWith(p.slice(0, -1)))));
  for (const model of selected) {
    const built = model.build();
    const optimizer = benchAdam(built.variables);
    const [{ x, y }] = randomBatches(model.data, 1);
    const step = () => {
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, built.forward(x)) as tf.Scalar, true);
      loss?.dataSync();
      loss?.dispose();
    };
    step();
    step();
    let start = clock();
    for (let i = 0; i < steps; i++) step();
    const plainMs = (clock() - start) / steps;
    const timer = timeWasmKernels({ clock, key: (name, inputs) => (byShapes ? `${name} ${inputShapes(inputs)}` : name) });
    start = clock();
    for (let i = 0; i < steps; i++) step();
    const wrappedMs = (clock() - start) / steps;
    timer.stop();
    const times = timer.times;
    const rows = [...times.entries()].sort((a, b) => b[1].ms - a[1].ms);
    const inKernels = rows.reduce((sum, [, e]) => sum + e.ms, 0) / steps;
    console.log(
      `${model.name}: ${plainMs.toFixed(1)} ms/step unwrapped (${((128 * 1000) / plainMs).toFixed(0)} samples/s), ` +
        `${wrappedMs.toFixed(1)} wrapped, ${inKernels.toFixed(1)} ms in kernels, ${(wrappedMs - inKernels).toFixed(1)} ms outside`,
    );
    for (const [name, entry] of rows.slice(0, top)) {
      const ms = entry.ms / steps;
      console.log(`  ${name.padEnd(byShapes ? 70 : 28)} ${ms.toFixed(2).padStart(8)} ms ${((100 * ms) / wrappedMs).toFixed(1).padStart(5)}%  ${(entry.calls / steps).toFixed(0)} calls`);
    }
    tf.dispose([x, y]);
    optimizer.dispose();
    built.dispose();
  }
}

void main();
