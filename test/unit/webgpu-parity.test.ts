// Every op path gowide adds, as it runs on the webgpu backend (Dawn on SwiftShader, the CPU Vulkan
// driver), against the pure-JS cpu backend: outputs and gradients.
//
// Tolerance: max |webgpu - cpu| <= 1e-4 * max(1, max |cpu|) per tensor (float32 summed in another
// order; the largest difference seen on each check is printed).
//
// On webgpu the fused ops (server/engine/kernels/*.ts) return null and their callers use TF.js
// composites; the tests check that and the composites' values. The replaced gradients (Tile,
// FusedBatchNorm, Erf, Relu, Square, Sum, Mean) run their webgpu branches, gowide's row
// kernels (Sum, Mean, Max, Softmax: webgpu-rows.ts) replace TF.js's there, and GroupOptimizer's
// Adam runs gowide's kernel (webgpu-adam.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../server/engine/engine';
import { fusedAttention } from '../../server/engine/kernels/attention';
import { addRelu } from '../../server/engine/kernels/add-relu';
import { addLayerNorm, batchNormReluTraining, batchNormTraining, layerNorm, movingAverages } from '../../server/engine/kernels/fused-normalization';
import { fusedGelu, registerGeluActivation } from '../../server/engine/kernels/gelu';
import { MAX_ROW } from '../../server/engine/kernels/webgpu-rows';
import { GroupOptimizer } from '../../server/method/training/optimizer';
import { buildNet } from '../../server/models';
import { FusableAdd, FusableRelu, FusedLayerNormalization, FusedTrainingBatchNormalization } from '../../server/models/normalization-layers';
import { MultiHeadSelfAttention } from '../../server/models/transformer-layers';
import { randomValues } from './kernel-test-helpers';
import { netSpec } from './models-helpers';
import { familyBatch, WEBGPU_FAMILIES } from './webgpu-families';
import { swiftshaderFound, requireWebgpu, SWIFTSHADER_ICD, useSwiftshaderHere } from './swiftshader';

const TOLERANCE = 1e-4;
const BACKENDS = ['cpu', 'webgpu'] as const;
type Backend = (typeof BACKENDS)[number];

const skip = swiftshaderFound() ? false : `SwiftShader's Vulkan driver is missing (${SWIFTSHADER_ICD}): apt-get install chromium libvulkan1`;
if (skip && requireWebgpu) throw new Error(skip);

/** The largest relative difference each check saw, printed at the end (the report's figures). */
const largest = new Map<string, number>();

function random(shape: number[], seed: number, offset = 0): tf.Tensor {
  return tf.tensor(randomValues(shape.reduce((a, b) => a * b, 1), seed).map((v) => v + offset), shape);
}

/** Runs `compute` on cpu and on webgpu (fresh inputs each time) and compares every tensor it returns. */
async function compare(name: string, compute: () => tf.Tensor[]): Promise<void> {
  const results = {} as Record<Backend, { values: Float32Array; shape: number[] }[]>;
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    const outputs = tf.tidy(compute);
    results[backend] = await Promise.all(outputs.map(async (t) => ({ values: Float32Array.from(await t.data()), shape: t.shape })));
    tf.dispose(outputs);
  }
  results.cpu.forEach((reference, i) => {
    const actual = results.webgpu[i];
    assert.deepEqual(actual.shape, reference.shape, `${name}: output ${i} shape`);
    const magnitude = Math.max(1, ...reference.values.filter((v) => !Number.isNaN(v)).map(Math.abs));
    let diff = 0;
    reference.values.forEach((v, j) => {
      assert.equal(Number.isNaN(actual.values[j]), Number.isNaN(v), `${name}: output ${i}[${j}] is ${actual.values[j]}, cpu has ${v}`);
      if (!Number.isNaN(v)) diff = Math.max(diff, Math.abs(actual.values[j] - v) / magnitude);
    });
    assert.ok(diff <= TOLERANCE, `${name}: output ${i} differs by ${diff.toExponential(2)} (relative to ${magnitude.toFixed(3)}) > ${TOLERANCE}`);
    largest.set(name, Math.max(largest.get(name) ?? 0, diff));
  });
}

/** f's value and its gradients with respect to each input. */
function withGradients(f: (...xs: tf.Tensor[]) => tf.Tensor, ...inputs: tf.Tensor[]): tf.Tensor[] {
  const output = f(...inputs);
  const weights = random(output.shape, 99);
  const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), weights)))(inputs);
  return [output, value, ...grads];
}

describe('webgpu (SwiftShader) against cpu', { skip }, () => {
  before(async () => {
    useSwiftshaderHere();
    const info = await initEngine({ backend: 'webgpu' });
    assert.equal(info.active, 'webgpu');
    assert.ok(info.notes.some((note) => /webgpu kernels replaced by gowide.*Sum, Mean, Max, Softmax/.test(note)), info.notes.join('\n'));
    assert.ok(info.notes.some((note) => /webgpu kernels added by gowide: GowideAdam/.test(note)), info.notes.join('\n'));
    registerGeluActivation();
    // Small tensors still in host memory would run on TF.js's CPU kernels ("CPU forwarding"): off, so
    // every op here runs its shader.
    tf.env().set('WEBGPU_CPU_FORWARD', false);
  });
  after(async () => {
    tf.env().set('WEBGPU_CPU_FORWARD', true);
    await tf.setBackend('cpu');
    console.log(`largest relative difference per check (tolerance ${TOLERANCE}):`);
    for (const [name, diff] of largest) console.log(`  ${name}: ${diff.toExponential(2)}`);
  });

  describe("gowide's row kernels (Sum, Mean, Max, Softmax)", () => {
    const x = () => random([6, 5, 7], 1);
    for (const [label, axis] of [['last axis', -1], ['first axis', 0], ['middle axis', 1], ['two axes', [1, 2]], ['all', undefined]] as const) {
      it(`sum, mean and max over the ${label}, with and without keepDims`, () =>
        compare(`rows: reductions over ${label}`, () => {
          const axes = axis as number | number[] | undefined;
          return [tf.sum(x(), axes), tf.mean(x(), axes, true), tf.max(x(), axes), tf.max(x(), axes, true)];
        }));
    }
    it('max propagates NaN as TF.js does', () => compare('rows: max with NaN', () => [tf.max(tf.tensor([[1, NaN, 3], [4, 5, 6]]), 1)]));
    it('softmax over short rows and, through TF.js, a row longer than MAX_ROW', () =>
      compare('rows: softmax', () => [tf.softmax(random([4, 3, 16], 2, 2)), tf.softmax(random([2, MAX_ROW + 5], 3))]));
    it('sums over rows longer than MAX_ROW (TF.js kernel)', () => compare('rows: long sum', () => [tf.sum(random([3, MAX_ROW + 5], 4), 1)]));
    it('softmax and reductions differentiate', () =>
      compare('rows: gradients', () => withGradients((a) => tf.add(tf.softmax(a), tf.mean(a, -1, true)), random([8, 16], 5))));
  });

  describe('replaced gradients', () => {
    it('Tile', () => compare('gradient: Tile', () => withGradients((a) => tf.tile(a, [2, 1, 3]), random([2, 3, 4], 6))));
    it('Erf, Relu, Square', () =>
      compare('gradient: Erf, Relu, Square', () => [
        ...withGradients((a) => tf.erf(a), random([5, 7], 7)),
        ...withGradients((a) => tf.relu(a), random([5, 7], 8)),
        ...withGradients((a) => tf.square(a), random([5, 7], 9)),
      ]));
    it('Sum and Mean', () =>
      compare('gradient: Sum, Mean', () => [
        ...withGradients((a) => tf.sum(a, [0, 2]), random([3, 4, 5], 10)),
        ...withGradients((a) => tf.mean(a, 1, true), random([3, 4, 5], 11)),
      ]));
    it('FusedBatchNorm with per-channel and full-size statistics', () =>
      compare('gradient: FusedBatchNorm', () => [
        ...withGradients((a, m, v, s, o) => tf.batchNorm(a, m, v, o, s, 1e-3), random([4, 3, 5], 12), random([5], 13), random([5], 14, 2), random([5], 15), random([5], 16)),
        ...withGradients((a, m, v, s, o) => tf.batchNorm(a, m, v, o, s, 1e-3), random([4, 5], 17), random([4, 5], 18), random([4, 5], 19, 2), random([4, 5], 20), random([4, 5], 21)),
      ]));
  });

  describe('fused ops take the composite path on webgpu', () => {
    it('their entry points return null there', async () => {
      await tf.setBackend('webgpu');
      tf.tidy(() => {
        const [a, b, s, o] = [random([4, 6], 20), random([4, 6], 21), random([6], 22), random([6], 23)];
        assert.equal(layerNorm(a, s, o, 1e-5), null);
        assert.equal(addLayerNorm(a, b, s, o, 1e-5), null);
        assert.equal(batchNormTraining(a, s, o, 1e-5), null);
        assert.equal(batchNormReluTraining(a, s, o, 1e-5), null);
        assert.equal(addRelu(a, b), null);
        assert.equal(fusedGelu(a), null);
        const q = random([2, 3, 4], 24);
        assert.equal(fusedAttention(q, q, q, 2, 0.5), null);
      });
    });
    it('LayerNorm and add + LayerNorm', () =>
      compare('op: LayerNorm, add + LayerNorm', () => {
        const layer = new FusedLayerNormalization({ epsilon: 1e-5 });
        layer.apply(tf.zeros([1, 3, 6]));
        const layerVars = layer.trainableWeights.map((w) => w.read());
        return [
          ...withGradients((a) => layer.apply(a) as tf.Tensor, random([2, 3, 6], 25)),
          ...withGradients((a, b) => layer.applyToSum(a, b) ?? (layer.apply(tf.add(a, b)) as tf.Tensor), random([2, 3, 6], 26), random([2, 3, 6], 27)),
          ...layerVars,
        ];
      }));
    it('BatchNorm (training) with and without the ReLU, and its moving averages', () =>
      compare('op: BatchNorm (+ReLU), moving averages', () => {
        const outputs: tf.Tensor[] = [];
        for (const reluFollows of [false, true]) {
          const bn = new FusedTrainingBatchNormalization({ momentum: 0.9, epsilon: 1e-3 });
          bn.reluFollows = reluFollows;
          const relu = new FusableRelu({ activation: 'relu' });
          const x = random([4, 3, 3, 5], 28);
          const f = (a: tf.Tensor) => relu.apply(bn.apply(a, { training: true }) as tf.Tensor) as tf.Tensor;
          outputs.push(...withGradients(f, x), ...bn.getWeights());
        }
        outputs.push(...movingAverages(random([5], 29), random([5], 30, 2), random([5], 31), random([5], 32, 2), 0.9));
        return outputs;
      }));
    it('add + ReLU', () =>
      compare('op: add + ReLU', () => {
        const add = new FusableAdd();
        add.reluFollows = true;
        const relu = new FusableRelu({ activation: 'relu' });
        return withGradients((a, b) => relu.apply(add.apply([a, b]) as tf.Tensor) as tf.Tensor, random([3, 8], 33), random([3, 8], 34));
      }));
    it('GELU', () =>
      compare('op: GELU', () => {
        const gelu = tf.layers.activation({ activation: 'gelu' as 'relu' });
        return withGradients((a) => gelu.apply(a) as tf.Tensor, random([4, 9], 35, 0.5));
      }));
    it('multi-head self-attention', () =>
      compare('op: attention', () => {
        const attention = new MultiHeadSelfAttention({ heads: 2, headDim: 3, seed: 5 });
        return withGradients((a) => attention.apply(a) as tf.Tensor, random([2, 5, 4], 36));
      }));
  });

  describe("GroupOptimizer (adam through gowide's webgpu kernel, the others as TF.js ops)", () => {
    for (const optimizer of ['adam', 'momentum', 'sgd'] as const) {
      it(`GroupOptimizer ${optimizer} (weight decay, a slow group)`, () =>
        compare(`optimizer: ${optimizer}`, () => {
          const [w, b] = [tf.variable(random([4, 3], 37)), tf.variable(random([3], 38))];
          const settings = { optimizer, learningRate: 0.05, schedule: 'warmup-cosine' as const, weightDecay: 0.01, totalSteps: 4 };
          const groups = [{ variables: [w], lrMultiplier: 1 }, { variables: [b], lrMultiplier: 0.1 }];
          const step = new GroupOptimizer(settings, groups);
          for (let i = 0; i < 3; i++) step.apply({ [w.name]: random([4, 3], 39 + i), [b.name]: random([3], 49 + i) });
          step.dispose();
          const values = [w.clone(), b.clone()];
          w.dispose();
          b.dispose();
          return values;
        }));
    }
  });

  describe('one forward and backward of each family', () => {
    for (const { label, model, data } of WEBGPU_FAMILIES) {
      it(label, () =>
        compare(`family: ${label}`, () => {
          const net = buildNet(netSpec(model, data, { factor: 2 }));
          try {
            const { x, y } = familyBatch(data, 4);
            const variables = [...net.namedVariables().values()].filter((v) => v.trainable);
            const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, net.forward(x, true)) as tf.Scalar, variables);
            return [net.forward(x, false), value, ...variables.map((v) => grads[v.name])];
          } finally {
            net.dispose();
          }
        }));
    }
  });
});
