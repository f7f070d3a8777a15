// Seeded weight initializers. Every layer gets its own seed derived from the net's seed and the layer's
// stable name, so the same NetSpec always yields the same weights, and two layers never share a stream.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../experiment/types';

type Initializer = ReturnType<typeof tf.initializers.heNormal>;

/** A 31-bit integer from the net seed and a layer name (FNV-1a over both). */
export function layerSeed(netSeed: number, layerName: string): number {
  let hash = 0x811c9dc5;
  const text = `${netSeed}|${layerName}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % 0x7fffffff;
}

/** He-normal for layers followed by ReLU-like activations (METHOD.md: default fan-in init left a
 *  20-layer plain MLP at chance), Glorot for tanh. */
export function activationInitializer(
  activation: ModelConfig['activation'],
  seed: number,
): Initializer {
  return activation === 'tanh' ? tf.initializers.glorotNormal({ seed }) : tf.initializers.heNormal({ seed });
}

/** For linear layers (heads, projections, attention maps). */
export function linearInitializer(seed: number): Initializer {
  return tf.initializers.glorotUniform({ seed });
}
