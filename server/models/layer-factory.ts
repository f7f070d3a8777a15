// Named, seeded tf.layers constructors shared by the families. Layer names are `${part}_${key}`, which
// makes variable names (`${layer}/kernel`) stable between two builds of the same spec.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../experiment/types';
import { activationInitializer, layerSeed, linearInitializer } from './initializers';
import { layerName } from './layer-part';
import { FusableAdd, FusableRelu, FusedTrainingBatchNormalization } from './normalization-layers';
import { PlainConv2D } from './conv-layer';
import { FusedDense } from './dense-layer';
import { registerGeluActivation } from '../engine/kernels/gelu';

/** 'act' = the model's activation with its initializer; 'linear' = no activation, Glorot. */
export type Nonlinearity = 'act' | 'linear';

/** PyTorch-like BatchNorm momentum: short runs need the moving statistics to follow quickly. */
const BATCH_NORM_MOMENTUM = 0.9;

export class LayerFactory {
  constructor(
    private readonly seed: number,
    private readonly activation: ModelConfig['activation'],
  ) {
    // 'gelu' through one fused kernel (and one for its gradient) where the native addon runs it.
    if (activation === 'gelu') registerGeluActivation();
  }

  private initializer(name: string, nonlinearity: Nonlinearity) {
    const seed = layerSeed(this.seed, name);
    return nonlinearity === 'act' ? activationInitializer(this.activation, seed) : linearInitializer(seed);
  }

  /** Dense whose activation is applied inside the layer (`nonlinearity` 'act'), or linear. */
  dense(part: string, key: string, units: number, nonlinearity: Nonlinearity, useBias = true): tf.layers.Layer {
    const name = layerName(part, key);
    return new FusedDense({
      name,
      units,
      useBias,
      activation: nonlinearity === 'act' ? this.activation : 'linear',
      kernelInitializer: this.initializer(name, nonlinearity),
    });
  }

  /** Conv2D, 'same' padding. `initFor` picks the initializer; the activation is always a separate
   *  layer when a BatchNorm follows, so pass `activate` false then (without bias and activation the
   *  layer runs the plain conv2d op, whose gradient skips the unused input gradient: ./conv-layer.ts). */
  conv(
    part: string,
    key: string,
    options: { filters: number; kernelSize: number; strides?: number; initFor: Nonlinearity; activate: boolean; useBias: boolean },
  ): tf.layers.Layer {
    const name = layerName(part, key);
    return new PlainConv2D({
      name,
      filters: options.filters,
      kernelSize: options.kernelSize,
      strides: options.strides ?? 1,
      padding: 'same',
      useBias: options.useBias,
      activation: options.activate ? this.activation : 'linear',
      kernelInitializer: this.initializer(name, options.initFor),
    });
  }

  /** BatchNormalization, with the fused training op on wasm+native (./normalization-layers.ts). */
  batchNorm(part: string, key: string): tf.layers.Layer {
    return new FusedTrainingBatchNormalization({ name: layerName(part, key), momentum: BATCH_NORM_MOMENTUM, epsilon: 1e-5 });
  }

  /**
   * batchNorm then the activation layer, for a BatchNorm whose only consumer is that activation:
   * with 'relu' the two run as one fused op in training (./normalization-layers.ts). Same layers,
   * names and configs as batchNorm and activationLayer.
   */
  batchNormActivation(part: string, bnKey: string, actKey: string): { bn: tf.layers.Layer; act: tf.layers.Layer } {
    const bn = this.batchNorm(part, bnKey);
    if (this.activation !== 'relu') return { bn, act: this.activationLayer(part, actKey) };
    (bn as FusedTrainingBatchNormalization).reluFollows = true;
    return { bn, act: new FusableRelu({ name: layerName(part, actKey), activation: 'relu' }) };
  }

  /**
   * An Add layer then the activation layer, for an Add whose only consumer is that activation:
   * with 'relu' the two run as one fused op (./normalization-layers.ts). Same layers, names and
   * configs as tf.layers.add and activationLayer.
   */
  addActivation(part: string, addKey: string, actKey: string): { add: tf.layers.Layer; act: tf.layers.Layer } {
    if (this.activation !== 'relu') return { add: tf.layers.add({ name: layerName(part, addKey) }), act: this.activationLayer(part, actKey) };
    const add = new FusableAdd({ name: layerName(part, addKey) });
    add.reluFollows = true;
    return { add, act: new FusableRelu({ name: layerName(part, actKey), activation: 'relu' }) };
  }

  activationLayer(part: string, key: string): tf.layers.Layer {
    return tf.layers.activation({ name: layerName(part, key), activation: this.activation });
  }
}
