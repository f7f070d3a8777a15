// The reference models of the benchmark (issue 6), each thin and 4x wide, built for TF.js and
// described layer by layer for the PyTorch mirror (scripts/bench/torch_bench.py builds the same
// shapes from that description).
//   mlp:         server/models family "mlp" (784 -> 7 x 256 ReLU -> 10), wide = factor 4 in mode "all"
//                (7 x 1024)
//   cnn:         conv 3x3 C 'same' relu, maxpool 2, conv 3x3 C relu, maxpool 2, dense 10 on 28x28x1
//                (tf.sequential of server/models' conv and dense layers; C = 16 thin, 64 wide)
//   resnet:      server/models family "resnet" (bottleneck blocks with BatchNorm) on 28x28x1,
//                wide = factor 4 in the family's default mode ("inside")
//   transformer: server/models family "transformer" (post-LN encoder) on token sequences,
//                wide = factor 4 in the family's default mode ("all")
import * as tf from '@tensorflow/tfjs';
import { buildNet } from '../../server/models';
import { LayerFactory } from '../../server/models/layer-factory';
import type { BlockNet, DataShape, NetSpec } from '../../server/models';
import type { ModelConfig } from '../../server/experiment/types';
import { layerMacs } from '../../server/models/layer-part';
import { interfaceWidth, scaled } from '../../server/models/spec-utils';
import { modelConfig } from '../../test/unit/models-helpers';

export const BATCH = 128;
export const WIDE_FACTOR = 4;

/** What the PyTorch mirror needs to build the same network (explicit widths, no defaults). */
export type TorchSpec =
  | { kind: 'mlp'; inputs: number; hidden: number[]; classes: number }
  | { kind: 'cnn'; input: number[]; channels: number[]; classes: number }
  | {
      kind: 'resnet';
      input: number[];
      kernel: number;
      norm: boolean;
      stem: number;
      blocks: Array<{ inner: number; out: number; stride: number; project: boolean }>;
      classes: number;
    }
  | {
      kind: 'transformer';
      sequence: number;
      vocab: number;
      norm: boolean;
      stem: number;
      blocks: Array<{ hidden: number; heads: number; headDim: number; ffn: number; resize: boolean }>;
      classes: number;
    };

/** A model ready to train: its forward pass and trainable variables on the active backend. */
export interface BuiltModel {
  forward(x: tf.Tensor): tf.Tensor;
  variables: tf.Variable[];
  /** Multiply-accumulates of one example's forward pass (the models' own count, server/models). */
  macsPerExample: number;
  dispose(): void;
}

/**
 * FLOPs of one training example: 2 per multiply-accumulate, times 3 for the forward pass and the two
 * backward products (input and weight gradients), the usual convention; norms, activations and the
 * optimizer are left out, so achieved GFLOP/s slightly understate the work done.
 */
export const trainingFlopsPerExample = (macsPerExample: number): number => 6 * macsPerExample;

export interface BenchModel {
  name: string;
  /** Smallest models also run on the pure-JS cpu backend (with a short cap). */
  smallest: boolean;
  data: DataShape;
  build(): BuiltModel;
  torch: TorchSpec;
}

/** A layer's (first) input or output shape without the batch axis. */
function exampleShape(tensor: tf.SymbolicTensor | tf.SymbolicTensor[]): number[] {
  return (Array.isArray(tensor) ? tensor[0] : tensor).shape.slice(1).map((d) => d ?? 0);
}

function fromSequential(make: () => tf.Sequential): () => BuiltModel {
  return () => {
    const model = make();
    return {
      forward: (x) => model.apply(x, { training: true }) as tf.Tensor,
      variables: model.trainableWeights.map((w) => w.read() as tf.Variable),
      macsPerExample: model.layers.reduce((sum, layer) => sum + layerMacs(layer, exampleShape(layer.input), exampleShape(layer.output)), 0),
      dispose: () => model.dispose(),
    };
  };
}

function fromNet(spec: NetSpec): () => BuiltModel {
  return () => {
    const net: BlockNet = buildNet(spec);
    return {
      forward: (x) => net.forward(x, true),
      variables: [...net.namedVariables().values()].filter((v) => v.trainable),
      macsPerExample: net.flops,
      dispose: () => net.dispose(),
    };
  };
}

function mlp(name: string, factor: number, smallest: boolean): BenchModel {
  const model = modelConfig({ family: 'mlp', depth: 7, width: 256 });
  const data: DataShape = { exampleShape: [784], numClasses: 10 };
  const spec = netSpec(model, data, factor, 'all');
  return {
    name,
    smallest,
    data,
    build: fromNet(spec),
    torch: { kind: 'mlp', inputs: 784, hidden: spec.factors.map((f) => scaled(model.width, f)), classes: 10 },
  };
}

function cnn(name: string, channels: number, smallest: boolean): BenchModel {
  return {
    name,
    smallest,
    data: { exampleShape: [28, 28, 1], numClasses: 10 },
    build: fromSequential(() => {
      // The conv and dense layers gowide's families build (server/models' LayerFactory).
      const make = new LayerFactory(7, 'relu');
      const conv = (part: string) => make.conv(part, 'conv', { filters: channels, kernelSize: 3, initFor: 'act', activate: true, useBias: true });
      return tf.sequential({
        layers: [
          tf.layers.inputLayer({ inputShape: [28, 28, 1] }),
          conv('block0'),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          conv('block1'),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          make.dense('head', 'dense', 10, 'linear'),
        ],
      });
    }),
    torch: { kind: 'cnn', input: [28, 28, 1], channels: [channels, channels], classes: 10 },
  };
}

function netSpec(model: ModelConfig, data: DataShape, factor: number, mode: NetSpec['mode']): NetSpec {
  return { family: model.family, model, data, factors: new Array(model.depth).fill(factor), mode, seed: 7 };
}

function resnet(name: string, factor: number): BenchModel {
  const model = modelConfig({ family: 'resnet', depth: 6, width: 16, downsampleAt: [2, 4], bottleneckRatio: 0.5 });
  const data: DataShape = { exampleShape: [28, 28, 1], numClasses: 10 };
  const spec = netSpec(model, data, factor, 'inside');
  // The same width arithmetic as server/models/resnet.ts.
  const stem = spec.mode === 'all' ? scaled(model.width, spec.factors[0]) : model.width;
  const blocks: Array<{ inner: number; out: number; stride: number; project: boolean }> = [];
  let inWidth = stem;
  for (let i = 0; i < model.depth; i++) {
    const out = interfaceWidth(spec, i);
    const stride = model.downsampleAt.includes(i) ? 2 : 1;
    blocks.push({ inner: scaled(model.width * model.bottleneckRatio, spec.factors[i]), out, stride, project: stride !== 1 || inWidth !== out });
    inWidth = out;
  }
  return {
    name,
    smallest: false,
    data,
    build: fromNet(spec),
    torch: { kind: 'resnet', input: data.exampleShape, kernel: model.kernelSize, norm: model.normalization, stem, blocks, classes: 10 },
  };
}

function transformer(name: string, factor: number): BenchModel {
  const model = modelConfig({ family: 'transformer', depth: 4, width: 32, heads: 2, ffnMultiplier: 2, activation: 'gelu' });
  const data: DataShape = { exampleShape: [32], numClasses: 10, vocabSize: 64 };
  const spec = netSpec(model, data, factor, 'all');
  // The same width arithmetic as server/models/transformer.ts.
  const headDim = model.width / model.heads;
  const headsOf = (i: number) => scaled(model.heads, spec.factors[i]);
  const streamWidth = (i: number) => (spec.mode === 'all' ? headsOf(i) * headDim : model.width);
  const stem = streamWidth(0);
  let width = stem;
  const blocks = Array.from({ length: model.depth }, (_, i) => {
    const hidden = streamWidth(i);
    const block = { hidden, heads: headsOf(i), headDim, ffn: scaled(model.width * model.ffnMultiplier, spec.factors[i]), resize: width !== hidden };
    width = hidden;
    return block;
  });
  return {
    name,
    smallest: false,
    data,
    build: fromNet(spec),
    torch: { kind: 'transformer', sequence: data.exampleShape[0], vocab: data.vocabSize!, norm: model.normalization, stem, blocks, classes: 10 },
  };
}

export function benchModels(): BenchModel[] {
  return [
    mlp('mlp 784-7x256-10', 1, true),
    mlp('mlp 784-7x1024-10 (4x)', WIDE_FACTOR, false),
    cnn('cnn 2conv 16ch', 16, true),
    cnn('cnn 2conv 64ch (4x)', 64, false),
    resnet('resnet 6x16', 1),
    resnet('resnet 6x16 (4x inside)', WIDE_FACTOR),
    transformer('transformer 4x32 seq32', 1),
    transformer('transformer 4x32 (4x)', WIDE_FACTOR),
  ];
}

/** Random batches of `batch` examples: uniform features or integer token ids, one-hot labels. */
export function randomBatches(data: DataShape, count: number, batch = BATCH): Array<{ x: tf.Tensor; y: tf.Tensor }> {
  return Array.from({ length: count }, (_, i) =>
    tf.tidy(() => {
      const shape = [batch, ...data.exampleShape];
      const x = data.vocabSize
        ? tf.floor(tf.randomUniform(shape, 0, data.vocabSize, 'float32', 11 + i))
        : tf.randomUniform(shape, 0, 1, 'float32', 11 + i);
      const labels = tf.randomUniform([batch], 0, data.numClasses, 'int32', 23 + i) as tf.Tensor1D;
      return { x, y: tf.oneHot(labels, data.numClasses).toFloat() };
    }),
  );
}
