// Shared helpers for the models-*.test.ts files.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../server/experiment/types';
import { buildNet, loadLayersModel, saveLayersModel } from '../../server/models';
import type { BlockNet, DataShape, NetSpec } from '../../server/models';

export function modelConfig(overrides: Partial<ModelConfig> & Pick<ModelConfig, 'family'>): ModelConfig {
  return {
    depth: 3,
    width: 8,
    activation: 'relu',
    kernelSize: 3,
    downsampleAt: [],
    bottleneckRatio: 0.5,
    normalization: true,
    heads: 2,
    ffnMultiplier: 2,
    patchSize: 4,
    dropout: 0,
    ...overrides,
  };
}

export function netSpec(
  model: ModelConfig,
  data: DataShape,
  options: { factor?: number; factors?: number[]; mode?: NetSpec['mode']; seed?: number } = {},
): NetSpec {
  return {
    family: model.family,
    model,
    data,
    factors: options.factors ?? new Array(model.depth).fill(options.factor ?? 1),
    mode: options.mode ?? 'all',
    seed: options.seed ?? 7,
  };
}

/** A random batch: uniform features, or integer token ids when the data has a vocabulary. */
export function randomBatch(data: DataShape, batch: number, seed = 3): { x: tf.Tensor; y: tf.Tensor } {
  return tf.tidy(() => {
    const shape = [batch, ...data.exampleShape];
    const x = data.vocabSize
      ? tf.floor(tf.randomUniform(shape, 0, data.vocabSize, 'float32', seed))
      : tf.randomUniform(shape, 0, 1, 'float32', seed);
    const labels = tf.floor(tf.randomUniform([batch], 0, data.numClasses, 'float32', seed + 1)).toInt();
    return { x, y: tf.oneHot(labels, data.numClasses).toFloat() };
  });
}

export function loss(net: BlockNet, x: tf.Tensor, y: tf.Tensor, training: boolean): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(y, net.forward(x, training)) as tf.Scalar;
}

/** Runs Adam steps on one batch; returns the loss before and after (in inference mode). */
export function fitBatch(net: BlockNet, x: tf.Tensor, y: tf.Tensor, steps: number, learningRate = 0.01) {
  const before = tf.tidy(() => loss(net, x, y, false).dataSync()[0]);
  const optimizer = tf.train.adam(learningRate);
  const vars = [...net.stem.trainableVariables(), ...net.blocks.flatMap((b) => b.trainableVariables()), ...net.head.trainableVariables()];
  for (let i = 0; i < steps; i++) {
    tf.tidy(() => {
      optimizer.minimize(() => loss(net, x, y, true), false, vars);
    });
  }
  optimizer.dispose();
  const after = tf.tidy(() => loss(net, x, y, false).dataSync()[0]);
  return { before, after };
}

export function assertNoLeakInStep(net: BlockNet, x: tf.Tensor, y: tf.Tensor): void {
  const vars = net.namedVariables();
  const trainable = [...vars.values()].filter((v) => v.trainable);
  // Warm up once (lazily created kernels / constants), then measure.
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => loss(net, x, y, true), trainable);
      value.dataSync();
      Object.values(grads).forEach((g) => g.dataSync());
    });
  step();
  const before = tf.memory().numTensors;
  step();
  tf.tidy(() => net.hiddenStates(x, false).forEach((h) => h.dataSync()));
  assert.equal(tf.memory().numTensors, before, 'tensors leaked by a forward/backward step');
}

/** Exports the net, saves it with the filesystem handler, loads it back and compares logits. */
export async function assertRoundTrip(net: BlockNet, x: tf.Tensor, tolerance = 1e-4): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gowide-models-'));
  try {
    const exported = net.toLayersModel();
    await saveLayersModel(exported, dir);
    exported.dispose();
    const loaded = await loadLayersModel(dir);
    const expected = tf.tidy(() => net.forward(x, false));
    const actual = loaded.predict(x) as tf.Tensor;
    assert.deepEqual(actual.shape, expected.shape);
    const maxDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]);
    assert.ok(maxDiff < tolerance, `loaded model differs from forward() by ${maxDiff}`);
    expected.dispose();
    actual.dispose();
    loaded.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function assertSeededDeterminism(spec: NetSpec): void {
  const a = buildNet(spec);
  const b = buildNet(spec);
  const c = buildNet({ ...spec, seed: spec.seed + 1 });
  try {
    const namesA = [...a.namedVariables().keys()];
    assert.deepEqual(namesA, [...b.namedVariables().keys()], 'variable names differ between two builds');
    let differsFromOtherSeed = false;
    for (const [name, variable] of a.namedVariables()) {
      const twin = b.namedVariables().get(name)!;
      assert.deepEqual(Array.from(variable.dataSync()), Array.from(twin.dataSync()), `${name} differs for the same seed`);
      const other = c.namedVariables().get(name)!;
      if (variable.trainable && variable.size > 1 && tf.tidy(() => tf.any(tf.notEqual(variable, other)).dataSync()[0])) {
        differsFromOtherSeed = true;
      }
    }
    assert.ok(differsFromOtherSeed, 'another seed gave the same weights');
  } finally {
    a.dispose();
    b.dispose();
    c.dispose();
  }
}

export async function useBackend(name: 'cpu' | 'wasm'): Promise<string> {
  if (name === 'wasm') {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return 'wasm';
      }
    } catch {
      // fall through to cpu
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return 'cpu';
}

/** A random batch for a test file: made on `backend` before its tests run, freed after them. */
export function randomBatchForFile(backend: 'cpu' | 'wasm', data: DataShape, size: number): () => { x: tf.Tensor; y: tf.Tensor } {
  let batch: { x: tf.Tensor; y: tf.Tensor } | undefined;
  before(async () => {
    await useBackend(backend);
    batch = randomBatch(data, size);
  });
  after(() => {
    batch?.x.dispose();
    batch?.y.dispose();
  });
  return () => {
    if (!batch) throw new Error('the batch exists only while the tests run');
    return batch;
  };
}

/** Runs fn with the nets built from specs, then disposes them whether fn throws or not. */
export async function withNets(specs: NetSpec[], fn: (nets: BlockNet[]) => void | Promise<void>): Promise<void> {
  const nets = specs.map((spec) => buildNet(spec));
  try {
    await fn(nets);
  } finally {
    for (const net of nets) net.dispose();
  }
}
