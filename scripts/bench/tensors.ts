// Memory across epochs of gowide's own training loop: trainPhase (server/method/training/train-loop.ts) over a
// BatchStream of random data (on the device where it fits), GroupOptimizer's Adam, the losses read
// back in batches, and a validation pass (evaluate) after each epoch, as the sidecar trains. After
// each epoch: tf.memory()'s tensor count and bytes (and the bytes a GPU backend holds). None may grow.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../../server/data/types';
import { loadWebgpuBackend } from '../../server/engine/webgpu';
import { BatchStream } from '../../server/method/training/batches';
import { evaluate } from '../../server/method/training/evaluate';
import { crossEntropy } from '../../server/method/training/losses';
import { GroupOptimizer } from '../../server/method/training/optimizer';
import { seededRandom } from '../../server/method/training/rng';
import { trainPhase } from '../../server/method/training/train-loop';
import type { DataShape } from '../../server/models/types';
import { BATCH, type BenchModel, type BuiltModel } from './models';

export interface EpochMemory {
  numTensors: number;
  numBytes: number;
  /** Bytes in GPU buffers (webgpu, webgl); absent on CPU backends. */
  numBytesInGPU?: number;
}

export interface TensorTrace {
  name: string;
  backend: string;
  /** tf.memory() after each epoch. */
  perEpoch: EpochMemory[];
  epochs: number;
  stepsPerEpoch: number;
  /** Whether the training split was kept on the device (uploaded once) rather than sent per batch. */
  dataOnDevice: boolean;
  /** Wall ms per training step after the first epoch (which compiles and warms up), validation passes included. */
  msPerStep: number;
  grows: boolean;
  seconds: number;
}

/** What the trace trains: a bench model, or any small net shaped like one (tests). */
export interface TraceModel {
  name: string;
  data: DataShape;
  build(): Pick<BuiltModel, 'forward' | 'variables' | 'dispose'>;
}

/** Random examples of a model's data shape: uniform features, or token ids for sequence models. */
function randomSplit(model: TraceModel, count: number, seed: number): Split {
  const random = seededRandom(seed);
  const size = model.data.exampleShape.reduce((a, b) => a * b, 1);
  const vocab = model.data.vocabSize;
  const x = Float32Array.from({ length: count * size }, () => (vocab ? Math.floor(random() * vocab) : random()));
  const y = Int32Array.from({ length: count }, () => Math.floor(random() * model.data.numClasses));
  return { x, y, count };
}

function memoryNow(): EpochMemory {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
  return { numTensors: m.numTensors, numBytes: m.numBytes, ...(m.numBytesInGPU === undefined ? {} : { numBytesInGPU: m.numBytesInGPU }) };
}

export async function tensorCountAcrossEpochs(model: TraceModel, epochs = 4, stepsPerEpoch = 10, batch = BATCH): Promise<TensorTrace> {
  const started = performance.now();
  const built = model.build();
  const optimizer = new GroupOptimizer(
    { optimizer: 'adam', learningRate: 1e-3, schedule: 'constant', totalSteps: epochs * stepsPerEpoch },
    [{ variables: built.variables, lrMultiplier: 1 }],
  );
  const validation = randomSplit(model, batch, 2);
  const stream = new BatchStream(randomSplit(model, batch * stepsPerEpoch, 1), model.data.exampleShape, batch, 3);
  const perEpoch: EpochMemory[] = [];
  let firstEpochEnded = 0;
  try {
    await trainPhase({
      place: { phase: 'wide', seed: 1 },
      stream,
      steps: epochs * stepsPerEpoch,
      optimizer,
      loss: (batch) => crossEntropy(built.forward(batch.x), batch.y),
      onEpochEnd: async () => {
        await evaluate((x) => built.forward(x), validation, model.data.exampleShape);
        perEpoch.push(memoryNow());
        if (perEpoch.length === 1) firstEpochEnded = performance.now();
      },
    });
  } finally {
    stream.dispose();
    optimizer.dispose();
    built.dispose();
  }
  const laterSteps = (epochs - 1) * stepsPerEpoch;
  // Adam's slots and the epoch's order exist from the first epoch on, so anything above it is growth.
  const [first] = perEpoch;
  const grows = perEpoch.some((m) => m.numTensors > first.numTensors || m.numBytes > first.numBytes || (m.numBytesInGPU ?? 0) > (first.numBytesInGPU ?? 0));
  return {
    name: model.name,
    backend: tf.getBackend(),
    epochs,
    stepsPerEpoch,
    perEpoch,
    dataOnDevice: stream.onDevice,
    msPerStep: laterSteps > 0 ? (performance.now() - firstEpochEnded) / laterSteps : NaN,
    grows,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Models and sizes of the trace: slow models (about a second a step on 2 cores, more on SwiftShader)
 *  get short epochs; the counts are what matter. */
const TRACE_PLAN: Array<[name: string, epochs: number, stepsPerEpoch: number]> = [
  ['mlp 784-7x256-10', 4, 10],
  ['cnn 2conv 16ch', 4, 10],
  ['resnet 6x16', 3, 3],
  ['transformer 4x32 seq32', 3, 2],
];

/** Makes `backend` active (webgpu: through Dawn); the reason when it cannot. */
async function activate(backend: string): Promise<string | null> {
  try {
    if (backend === 'webgpu') await loadWebgpuBackend();
    return (await tf.setBackend(backend)) ? null : `tf.setBackend("${backend}") failed`;
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
}

/** The trace of every TRACE_PLAN model on `backend` (then back to the backend active before), printed. */
export async function memoryTraces(backend: string, models: BenchModel[], say: (line: string) => void): Promise<TensorTrace[]> {
  const before = tf.getBackend();
  const reason = await activate(backend);
  say('');
  if (reason) {
    say(`memory across epochs on ${backend} not measured: ${reason}`);
    return [];
  }
  const bytes = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
  say(`TF.js memory after each epoch (${backend}; gowide's trainPhase, epochs x steps per epoch, a validation pass each): tensors / bytes${backend === 'webgpu' ? ' / GPU bytes' : ''}`);
  const traces: TensorTrace[] = [];
  try {
    for (const [name, epochs, steps] of TRACE_PLAN) {
      const model = models.find((m) => m.name === name);
      if (!model) continue;
      const t = await tensorCountAcrossEpochs(model, epochs, steps);
      traces.push(t);
      const perEpoch = t.perEpoch.map((m) => [m.numTensors, bytes(m.numBytes), ...(m.numBytesInGPU === undefined ? [] : [bytes(m.numBytesInGPU)])].join(' / ')).join(', ');
      say(
        `  ${t.name.padEnd(26)} ${t.epochs}x${t.stepsPerEpoch}: ${perEpoch}  ${t.grows ? 'GROWS' : 'flat'}; data ${t.dataOnDevice ? 'on the device' : 'sent per batch'}, ` +
          `${t.msPerStep.toFixed(1)} ms/step after epoch 1 (${t.seconds.toFixed(1)} s)`,
      );
    }
  } finally {
    await tf.setBackend(before);
  }
  return traces;
}
