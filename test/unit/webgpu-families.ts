// The model families the webgpu tests run, small (SwiftShader runs a few steps a second), and a
// deterministic batch for each.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../server/experiment/types';
import type { DataShape } from '../../server/models';
import { randomValues } from './kernel-test-helpers';
import { modelConfig } from './models-helpers';

const image: DataShape = { exampleShape: [8, 8, 2], numClasses: 3 };
const sequence: DataShape = { exampleShape: [6], numClasses: 3, vocabSize: 7 };

export const WEBGPU_FAMILIES: { label: string; model: ModelConfig; data: DataShape }[] = [
  { label: 'mlp', model: modelConfig({ family: 'mlp', depth: 2, width: 8 }), data: image },
  { label: 'cnn', model: modelConfig({ family: 'cnn', depth: 2, width: 4, normalization: false }), data: image },
  { label: 'cnn with BatchNorm', model: modelConfig({ family: 'cnn', depth: 2, width: 4, normalization: true }), data: image },
  { label: 'resnet', model: modelConfig({ family: 'resnet', depth: 2, width: 4, downsampleAt: [1] }), data: image },
  { label: 'transformer', model: modelConfig({ family: 'transformer', depth: 2, width: 8, heads: 2, activation: 'gelu' }), data: sequence },
  { label: 'transformer on image patches', model: modelConfig({ family: 'transformer', depth: 2, width: 8, heads: 2, activation: 'gelu', patchSize: 4 }), data: image },
];

/** `count` examples (token ids for sequences, values in [-1, 1) otherwise) and one-hot labels cycling through the classes. */
export function familyBatch(data: DataShape, count: number, seed = 40): { x: tf.Tensor; y: tf.Tensor } {
  return tf.tidy(() => {
    const size = count * data.exampleShape.reduce((a, b) => a * b, 1);
    const values = randomValues(size, seed);
    const vocabulary = data.vocabSize;
    const x = tf.tensor(vocabulary ? values.map((v) => Math.floor(((v + 1) / 2) * vocabulary)) : values, [count, ...data.exampleShape]);
    const labels = tf.tensor1d(Array.from({ length: count }, (_, i) => i % data.numClasses), 'int32');
    return { x, y: tf.oneHot(labels, data.numClasses).toFloat() };
  });
}
