// Imitation projections: a bias-free linear map over the last (feature / channel) axis. When the
// widths are equal it starts as the identity, so the imitation loss starts from the raw thin state.
import * as tf from '@tensorflow/tfjs';
import { layerSeed, linearInitializer } from './initializers';
import { LayerPart } from './layer-part';
import type { NetPart, ProjectionBuilder } from './types';

export const buildProjection: ProjectionBuilder = (from, to, seed, name): NetPart => {
  const sameLeading = from.length === to.length && from.slice(0, -1).every((d, i) => d === to[i]);
  if (!sameLeading) {
    throw new Error(`projection ${name}: shapes [${from}] and [${to}] differ outside the last axis`);
  }
  const inFeatures = from[from.length - 1];
  const outFeatures = to[to.length - 1];
  const layer = tf.layers.dense({
    name: `${name}_dense`,
    units: outFeatures,
    useBias: false,
    kernelInitializer:
      inFeatures === outFeatures ? tf.initializers.identity({}) : linearInitializer(layerSeed(seed, name)),
  });
  return new LayerPart(name, from, { dense: layer }, (x, run) => run('dense', x));
};
