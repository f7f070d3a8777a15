// Plain deep MLP: stem = flatten, block = Dense + activation, head = Dense(numClasses).
// Mode "all": block i is Dense(round(width * factor)). Mode "inside": a widened block is
// Dense(round(width * factor)) -> Dense(width), so block outputs keep the thin width and the wide head
// fits the thin net. A block whose width does not change is a single Dense(width) in both modes, so
// the thin net (all factors 1) is the same whatever the mode.
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
    const inner = scaled(model.width, spec.factors[i]);
    const block =
      spec.mode === 'all' || inner === width
        ? new LayerPart(part, shape, { dense: make.dense(part, 'dense', width, 'act') }, (x, run) => run('dense', x))
        : new LayerPart(
            part,
            shape,
            {
              inner: make.dense(part, 'inner', inner, 'act'),
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
