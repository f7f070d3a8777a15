// Residual CNN with bottleneck blocks (He et al.), widened as in the paper's ResNet recipe.
// stem = Conv kxk -> width [+ BN] + activation. Block i: 1x1 conv -> inner, kxk conv inner -> inner
// (stride 2 when i is in downsampleAt: block i's output is half the size), 1x1 conv inner -> out,
// BatchNorm after each conv when normalization is on, residual add (1x1 strided projection shortcut
// when the block downsamples or changes width), activation.
// inner = round(width * bottleneckRatio * factors[i]): in mode "inside" only the inside of the block
// widens, so stem, block outputs and head have the thin shapes; in mode "all" the stem and block
// outputs widen by the factor too.
import * as tf from '@tensorflow/tfjs';
import { LayerBlockNet } from './block-net';
import { LayerFactory, type Nonlinearity } from './layer-factory';
import { pooledClassifierHead } from './pooled-head';
import { LayerPart, type AnyTensor, type RunLayer } from './layer-part';
import { checkSpec, interfaceWidth, scaled } from './spec-utils';
import type { NetSpec } from './types';

export function buildResnet(spec: NetSpec): LayerBlockNet {
  checkSpec(spec);
  const { model, data } = spec;
  if (data.exampleShape.length !== 3) {
    throw new Error(`family resnet needs image examples [height, width, channels], got [${data.exampleShape}]`);
  }
  if (!(model.bottleneckRatio > 0)) throw new Error(`model.bottleneckRatio must be positive, got ${model.bottleneckRatio}`);
  const make = new LayerFactory(spec.seed, model.activation);
  const norm = model.normalization;

  /** Adds conv (+ bn) under `key` / `${key}_bn`, and the activation that follows under `actKey` if given. */
  const addConv = (
    layers: Record<string, tf.layers.Layer>,
    part: string,
    key: string,
    filters: number,
    kernelSize: number,
    strides: number,
    initFor: Nonlinearity,
    actKey?: string,
  ) => {
    layers[key] = make.conv(part, key, { filters, kernelSize, strides, initFor, activate: false, useBias: !norm });
    if (norm && actKey != null) {
      // The BatchNorm's only consumer is the activation: fused with it where possible.
      const { bn, act } = make.batchNormActivation(part, `${key}_bn`, actKey);
      layers[`${key}_bn`] = bn;
      layers[actKey] = act;
    } else {
      if (norm) layers[`${key}_bn`] = make.batchNorm(part, `${key}_bn`);
      if (actKey != null) layers[actKey] = make.activationLayer(part, actKey);
    }
  };
  const runConv = <T extends AnyTensor>(x: T, run: RunLayer, key: string): T => (norm ? run(`${key}_bn`, run(key, x)) : run(key, x));

  const stemWidth = spec.mode === 'all' ? scaled(model.width, spec.factors[0]) : model.width;
  const stemLayers: Record<string, tf.layers.Layer> = {};
  addConv(stemLayers, 'stem', 'conv', stemWidth, model.kernelSize, 1, 'act', 'act');
  const stem = new LayerPart('stem', data.exampleShape, stemLayers, (x, run) => run('act', runConv(x, run, 'conv')));

  const blocks: LayerPart[] = [];
  let shape = stem.outputShape;
  for (let i = 0; i < model.depth; i++) {
    const part = `block${i}`;
    const inWidth = shape[2];
    const outWidth = interfaceWidth(spec, i);
    const inner = scaled(model.width * model.bottleneckRatio, spec.factors[i]);
    const strides = model.downsampleAt.includes(i) ? 2 : 1;
    const projectShortcut = strides !== 1 || inWidth !== outWidth;
    const layers: Record<string, tf.layers.Layer> = {};
    addConv(layers, part, 'reduce', inner, 1, 1, 'act', 'reduce_act');
    addConv(layers, part, 'conv', inner, model.kernelSize, strides, 'act', 'conv_act');
    addConv(layers, part, 'expand', outWidth, 1, 1, 'act');
    if (projectShortcut) addConv(layers, part, 'shortcut', outWidth, 1, strides, 'linear');
    // The add's only consumer is the activation: fused with it where possible.
    const { add, act } = make.addActivation(part, 'add', 'act');
    layers.add = add;
    layers.act = act;
    const block = new LayerPart(part, shape, layers, (x, run) => {
      let h = run('reduce_act', runConv(x, run, 'reduce'));
      h = run('conv_act', runConv(h, run, 'conv'));
      h = runConv(h, run, 'expand');
      const shortcut = projectShortcut ? runConv(x, run, 'shortcut') : x;
      return run('act', run('add', [h, shortcut]));
    });
    blocks.push(block);
    shape = block.outputShape;
  }

  return new LayerBlockNet(spec, stem, blocks, pooledClassifierHead(make, shape, data.numClasses));
}
