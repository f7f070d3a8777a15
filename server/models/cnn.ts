// Plain CNN (no residuals): stem = identity; block = Conv2D('same') [+ BatchNorm] + activation, then a
// 2x2 max pool after the blocks listed in downsampleAt; head = global average pooling + Dense.
// Mode "all": block i has round(width * factor) channels. Mode "inside": a widened block is two
// convolutions, -> round(width * factor) -> width, so block outputs keep the thin width; a block whose
// width does not change is a single convolution in both modes (the thin net does not depend on the mode).
import * as tf from '@tensorflow/tfjs';
import { LayerBlockNet } from './block-net';
import { LayerFactory } from './layer-factory';
import { pooledClassifierHead } from './pooled-head';
import { LayerPart, type RunLayer, type AnyTensor } from './layer-part';
import { checkSpec, interfaceWidth, scaled } from './spec-utils';
import type { NetSpec } from './types';

export function buildCnn(spec: NetSpec): LayerBlockNet {
  checkSpec(spec);
  const { model, data } = spec;
  if (data.exampleShape.length !== 3) {
    throw new Error(`family cnn needs image examples [height, width, channels], got [${data.exampleShape}]`);
  }
  const make = new LayerFactory(spec.seed, model.activation);
  const norm = model.normalization;

  /** conv [+ bn] + activation under keys `${key}`, `${key}_bn`, `${key}_act`. */
  const addConvUnit = (layers: Record<string, tf.layers.Layer>, part: string, key: string, filters: number) => {
    layers[key] = make.conv(part, key, { filters, kernelSize: model.kernelSize, initFor: 'act', activate: !norm, useBias: !norm });
    if (norm) {
      // The BatchNorm's only consumer is the activation: fused with it where possible.
      const { bn, act } = make.batchNormActivation(part, `${key}_bn`, `${key}_act`);
      layers[`${key}_bn`] = bn;
      layers[`${key}_act`] = act;
    }
  };
  const runConvUnit = <T extends AnyTensor>(x: T, run: RunLayer, key: string): T =>
    norm ? run(`${key}_act`, run(`${key}_bn`, run(key, x))) : run(key, x);

  const stem = new LayerPart('stem', data.exampleShape, {}, (x) => x);
  const blocks: LayerPart[] = [];
  let shape = stem.outputShape;
  for (let i = 0; i < model.depth; i++) {
    const part = `block${i}`;
    const layers: Record<string, tf.layers.Layer> = {};
    const width = interfaceWidth(spec, i);
    const inner = scaled(model.width, spec.factors[i]);
    const single = spec.mode === 'all' || inner === width;
    const keys = single ? ['conv'] : ['inner', 'outer'];
    if (single) {
      addConvUnit(layers, part, 'conv', width);
    } else {
      addConvUnit(layers, part, 'inner', inner);
      addConvUnit(layers, part, 'outer', width);
    }
    const pool = model.downsampleAt.includes(i);
    if (pool) layers.pool = tf.layers.maxPooling2d({ name: `${part}_pool`, poolSize: 2, strides: 2 });
    const block = new LayerPart(part, shape, layers, (x, run) => {
      let h = x;
      for (const key of keys) h = runConvUnit(h, run, key);
      return pool ? run('pool', h) : h;
    });
    blocks.push(block);
    shape = block.outputShape;
  }

  return new LayerBlockNet(spec, stem, blocks, pooledClassifierHead(make, shape, data.numClasses));
}
