// Shared checks of training that suits a GPU, run on wasm (device-training.test.ts) and on webgpu
// through SwiftShader (device-training-webgpu.test.ts): the training split on the device gives the
// same batches as the per-batch upload, a phase reads its losses back at most once per window, and
// tensors and memory stay flat across epochs.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BatchStream, RESIDENT_DATA_BYTES } from '../../server/method/training/batches';
import { DivergedError } from '../../server/method/errors';
import { crossEntropy } from '../../server/method/training/losses';
import { GroupOptimizer } from '../../server/method/training/optimizer';
import { trainPhase, type PhaseOptions, type PhaseReport } from '../../server/method/training/train-loop';
import { buildNet } from '../../server/models';
import { tensorCountAcrossEpochs, type TraceModel } from '../../scripts/bench/tensors';
import { syntheticDataset } from './method-fixtures';
import { modelConfig } from './models-helpers';

/** Runs `body` counting every read back of tensor values (data(), dataSync(), array()...) through the engine. */
export async function countingReads<T>(body: () => Promise<T>): Promise<{ result: T; reads: number }> {
  const engine = tf.engine();
  const { read, readSync } = engine;
  let reads = 0;
  engine.read = (dataId) => {
    reads++;
    return read.call(engine, dataId);
  };
  engine.readSync = (dataId) => {
    reads++;
    return readSync.call(engine, dataId);
  };
  try {
    return { result: await body(), reads };
  } finally {
    engine.read = read;
    engine.readSync = readSync;
  }
}

/** Batches of three epochs (a partial batch dropped at every epoch's end) from the split on the device
 *  and sent per batch, value for value. */
export async function assertSameBatches(): Promise<void> {
  const tensorsBefore = tf.memory().numTensors;
  const { train } = syntheticDataset({ train: 50 });
  const onDevice = new BatchStream(train, [16], 8, 5, RESIDENT_DATA_BYTES);
  const perBatch = new BatchStream(train, [16], 8, 5, 0);
  try {
    assert.equal(onDevice.onDevice, true);
    assert.equal(perBatch.onDevice, false);
    for (let step = 0; step < 3 * onDevice.stepsPerEpoch; step++) {
      const a = onDevice.next();
      const b = perBatch.next();
      assert.deepEqual(await a.x.data(), await b.x.data(), `x of step ${step}`);
      assert.deepEqual(await a.y.data(), await b.y.data(), `y of step ${step}`);
      assert.equal(a.y.dtype, 'int32');
      tf.dispose([a.x, a.y, b.x, b.y]);
    }
    assert.equal(onDevice.epoch, 3);
  } finally {
    onDevice.dispose();
    perBatch.dispose();
  }
  assert.equal(tf.memory().numTensors, tensorsBefore, 'the streams left no tensor behind');
}

// Width 32: on SwiftShader a width of 8 made some steps take seconds (shaders compiled for those shapes).
const tinyMlp = (): TraceModel => {
  const data = { exampleShape: [16], numClasses: 4 };
  return {
    name: 'mlp 16-3x32-4',
    data,
    build: () => {
      const net = buildNet({ family: 'mlp', model: modelConfig({ family: 'mlp', depth: 3, width: 32 }), data, factors: [1, 1, 1], mode: 'all', seed: 3 });
      return { forward: (x) => net.forward(x, true), variables: allTrainable(net.namedVariables()), dispose: () => net.dispose() };
    },
  };
};
const allTrainable = (vars: Map<string, tf.Variable>) => [...vars.values()].filter((v) => v.trainable);

/** A tiny MLP's phase of `steps` steps (Adam at 1e-2, batches of 16 cut on the device), given to `body`; all freed after. */
async function withTinyPhase(steps: number, body: (phase: Pick<PhaseOptions, 'stream' | 'steps' | 'optimizer'>, model: ReturnType<TraceModel['build']>) => Promise<void>): Promise<void> {
  const model = tinyMlp().build();
  const { train } = syntheticDataset({ train: 256 });
  const stream = new BatchStream(train, [16], 16, 9, RESIDENT_DATA_BYTES);
  const optimizer = new GroupOptimizer({ optimizer: 'adam', learningRate: 1e-2, schedule: 'constant', totalSteps: steps }, [{ variables: model.variables, lrMultiplier: 1 }]);
  try {
    await body({ stream, steps, optimizer }, model);
  } finally {
    stream.dispose();
    optimizer.dispose();
    model.dispose();
  }
}

/** A phase whose loss becomes NaN at step `nanFrom` stops with DivergedError naming that step,
 *  reports only the losses before it, and leaves no tensor behind. */
export async function assertDivergenceNamed(nanFrom: number, readEvery: number): Promise<void> {
  const tensorsBefore = tf.memory().numTensors;
  const reports: PhaseReport[] = [];
  let step = 0;
  await withTinyPhase(100, async (phase, model) => {
    await assert.rejects(
      trainPhase({
        ...phase,
        place: { phase: 'imitate', seed: 1, block: 2 },
        readEvery,
        loss: (batch) => tf.mul(crossEntropy(model.forward(batch.x), batch.y), step++ >= nanFrom ? NaN : 1) as tf.Scalar,
        onLoss: (r) => reports.push(r),
      }),
      (error: Error) => {
        assert.ok(error instanceof DivergedError, String(error));
        assert.equal(error.step, nanFrom);
        assert.match(error.message, new RegExp(`The loss became NaN in phase "imitate", block 2 \\(seed 1\\) at step ${nanFrom}\\.`));
        return true;
      },
    );
  });
  assert.ok(step <= nanFrom + 2 * readEvery, `noticed ${step - nanFrom} steps late`);
  assert.ok(reports.length > 0 && reports.every((r) => r.step < nanFrom && Number.isFinite(r.loss)), JSON.stringify(reports));
  assert.equal(tf.memory().numTensors, tensorsBefore, 'nothing pending was left behind');
}

/** A phase of `steps` steps reading back every `readEvery`: at most one read per window, and the
 *  reported losses are those of steps 0, readEvery, 2 readEvery ... and the last, all finite. */
export async function assertReadsPerWindow(steps: number, readEvery: number): Promise<void> {
  const reports: PhaseReport[] = [];
  await withTinyPhase(steps, async (phase, model) => {
    const { result, reads } = await countingReads(() =>
      trainPhase({
        ...phase,
        place: { phase: 'wide', seed: 1 },
        readEvery,
        loss: (batch) => crossEntropy(model.forward(batch.x), batch.y),
        onLoss: (r) => reports.push(r),
      }),
    );
    assert.ok(reads <= Math.ceil(steps / readEvery), `${reads} reads in ${steps} steps, reading every ${readEvery}`);
    assert.ok(reads > 0, 'the losses were read');
    const expected = Array.from({ length: steps }, (_, s) => s).filter((s) => s % readEvery === 0 || s === steps - 1);
    assert.deepEqual(reports.map((r) => r.step), expected);
    assert.ok(reports.every((r) => Number.isFinite(r.loss) && r.loss > 0), JSON.stringify(reports));
    assert.equal(result.firstLoss, reports[0].loss);
    assert.equal(result.lastLoss, reports[reports.length - 1].loss);
  });
}

/** Three epochs of the bench's trace on a tiny MLP: tensor count, bytes and GPU bytes (where the
 *  backend has a GPU, and then the data on it) flat. */
export async function assertFlatAcrossEpochs(gpu: boolean): Promise<void> {
  const trace = await tensorCountAcrossEpochs(tinyMlp(), 3, 4, 16);
  assert.equal(trace.perEpoch.length, 3);
  assert.equal(trace.dataOnDevice, gpu);
  assert.equal(trace.perEpoch.every((m) => typeof m.numBytesInGPU === 'number'), gpu, JSON.stringify(trace.perEpoch));
  const [first] = trace.perEpoch;
  for (const epoch of trace.perEpoch) assert.deepEqual(epoch, first, JSON.stringify(trace.perEpoch));
  assert.equal(trace.grows, false);
}
