// Plain deep MLP: stem = flatten, block = Dense + activation, head = Dense(numClasses).
// Mode "inside" makes each block width -> width*factor -> width (two Dense layers), so block
// interfaces stay at the thin width and the wide head fits the thin net.
import * as tf from '@tensorflow/tfjs';
import { LayerBlockNet } from './block-net';
import { LayerFactory } from './layer-factory';
import { LayerPart } from './layer-part';
import { checkSpec, interfaceWidth, scaled } from './spec-utils';
import type { NetSpec } from './types';

export function buildMlp(spec: NetSpec): LayerBlockNet {
  checkSpec(spec);
  const { model, data } = spec;
  const make = new LayerFactory(spec.seed, model.activation);

  const stem =
    data.exampleShape.length > 1
      ? new LayerPart('stem', data.exampleShape, { flatten: tf.layers.flatten({ name: 'stem_flatten' }) }, (x, run) =>
          run('flatten', x),
        )
      : new LayerPart('stem', data.exampleShape, {}, (x) => x);

  const blocks: LayerPart[] = [];
  let shape = stem.outputShape;
  for (let i = 0; i < model.depth; i++) {
    const part = `block${i}`;
    const width = interfaceWidth(spec, i);
    const block =
      spec.mode === 'all'
        ? new LayerPart(part, shape, { dense: make.dense(part, 'dense', width, 'act') }, (x, run) => run('dense', x))
        : new LayerPart(
            part,
            shape,
            {
              inner: make.dense(part, 'inner', scaled(model.width, spec.factors[i]), 'act'),
              outer: make.dense(part, 'outer', width, 'act'),
            },
            (x, run) => run('outer', run('inner', x)),
          );
    blocks.push(block);
    shape = block.outputShape;
  }

  const head = new LayerPart('head', shape, { dense: make.dense('head', 'dense', data.numClasses, 'linear') }, (x, run) =>
    run('dense', x),
  );
  return new LayerBlockNet(spec, stem, blocks, head);
}
