// The classifier head of the convolutional families: global average pooling, then a linear layer.
import * as tf from '@tensorflow/tfjs';
import type { LayerFactory } from './layer-factory';
import { LayerPart } from './layer-part';

export function pooledClassifierHead(make: LayerFactory, inputShape: number[], numClasses: number): LayerPart {
  return new LayerPart(
    'head',
    inputShape,
    {
      pool: tf.layers.globalAveragePooling2d({ name: 'head_pool' }),
      dense: make.dense('head', 'dense', numClasses, 'linear'),
    },
    (x, run) => run('dense', run('pool', x)),
  );
}
