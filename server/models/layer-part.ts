// A NetPart made of tf.layers layers. A part is described once by a wiring function that applies its
// layers by key; the same wiring runs eagerly on tensors (training) and symbolically on
// tf.SymbolicTensors (to build weights, infer shapes, count multiply-accumulates, and assemble the
// exported tf.LayersModel from cloned layers).
import * as tf from '@tensorflow/tfjs';
import type { NetPart } from './types';

export type AnyTensor = tf.Tensor | tf.SymbolicTensor;

/** Applies the layer registered under `key` to `input` (an array for merge layers such as add). */
export type RunLayer = <T extends AnyTensor>(key: string, input: T | T[]) => T;

export type Wiring = <T extends AnyTensor>(x: T, run: RunLayer) => T;

/** Layers that know their own multiply-accumulate count (custom layers). */
export interface CountsMacs {
  macsPerExample(inputShape: number[]): number;
}

function hasMacs(layer: unknown): layer is CountsMacs {
  return typeof (layer as Partial<CountsMacs>).macsPerExample === 'function';
}

const product = (values: readonly number[]): number => values.reduce((a, b) => a * b, 1);

/** Multiply-accumulates of one layer for one example, from its per-example input/output shapes. */
export function layerMacs(layer: tf.layers.Layer, inputShape: number[], outputShape: number[]): number {
  if (hasMacs(layer)) return layer.macsPerExample(inputShape);
  const className = layer.getClassName();
  if (className === 'Dense') {
    const units = outputShape[outputShape.length - 1];
    return product(inputShape) * units;
  }
  if (className === 'Conv2D') {
    const kernel = (layer.getWeights()[0] as tf.Tensor).shape; // [kh, kw, cin, cout]
    return outputShape[0] * outputShape[1] * product(kernel);
  }
  return 0;
}

/** Symbolic shape without the batch axis. */
function exampleShapeOf(t: tf.SymbolicTensor): number[] {
  return t.shape.slice(1).map((d) => {
    if (d == null) throw new Error('gowide models need fully known example shapes');
    return d;
  });
}

/** Clones a layer with the same configuration and fresh (unbuilt) weights. */
export function cloneLayer(layer: tf.layers.Layer): tf.layers.Layer {
  const ctor = layer.constructor as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>;
  return ctor.fromConfig(ctor, layer.getConfig()) as tf.layers.Layer;
}

export class LayerPart implements NetPart {
  readonly outputShape: number[];
  readonly params: number;
  readonly flops: number;

  /**
   * @param name stable part name (stem, block3, head, ...); layer names are `${name}_${key}`.
   * @param inputShape one example's input shape.
   * @param layers the part's layers by key, created with names from `layerName(name, key)`.
   */
  constructor(
    readonly name: string,
    readonly inputShape: number[],
    readonly layers: Record<string, tf.layers.Layer>,
    private readonly wiring: Wiring,
  ) {
    // Symbolic pass: builds the weights, infers the output shape and counts MACs.
    let macs = 0;
    const input = tf.input({ shape: inputShape });
    const output = wiring(input, ((key: string, x: AnyTensor | AnyTensor[]) => {
      const layer = this.layer(key);
      const result = layer.apply(x as tf.SymbolicTensor | tf.SymbolicTensor[]) as tf.SymbolicTensor;
      if (!Array.isArray(x)) {
        macs += layerMacs(layer, exampleShapeOf(x as tf.SymbolicTensor), exampleShapeOf(result));
      }
      return result;
    }) as RunLayer);
    this.outputShape = exampleShapeOf(output);
    this.flops = macs;
    this.params = this.trainableVariables().reduce((sum, v) => sum + v.size, 0);
  }

  private layer(key: string): tf.layers.Layer {
    const layer = this.layers[key];
    if (!layer) throw new Error(`part ${this.name} has no layer ${key}`);
    return layer;
  }

  trainableVariables(): tf.Variable[] {
    return Object.values(this.layers).flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
  }

  stateVariables(): tf.Variable[] {
    return Object.values(this.layers).flatMap((l) => l.nonTrainableWeights.map((w) => w.read() as tf.Variable));
  }

  /** Variables by their stable original names (`${layerName}/${weightName}`). */
  namedVariables(): [string, tf.Variable][] {
    return Object.values(this.layers).flatMap((l) =>
      l.weights.map((w): [string, tf.Variable] => [w.originalName, w.read() as tf.Variable]),
    );
  }

  apply(x: tf.Tensor, training: boolean): tf.Tensor {
    const output = this.wiring(x, ((key: string, input: tf.Tensor | tf.Tensor[]) =>
      this.layer(key).apply(input, { training }) as tf.Tensor) as RunLayer);
    // An identity part must not hand back its input: callers dispose what parts return.
    return output === x ? x.clone() : output;
  }

  /** Wires fresh copies of this part's layers onto a symbolic input (for export); returns the output
   *  and a function that copies the current weights into the copies (call after the model is built). */
  wireClone(input: tf.SymbolicTensor): { output: tf.SymbolicTensor; copyWeights: () => void } {
    const clones: Record<string, tf.layers.Layer> = {};
    for (const [key, layer] of Object.entries(this.layers)) clones[key] = cloneLayer(layer);
    const output = this.wiring(input, ((key: string, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
      clones[key].apply(x) as tf.SymbolicTensor) as RunLayer);
    const copyWeights = () => {
      for (const [key, layer] of Object.entries(this.layers)) clones[key].setWeights(layer.getWeights());
    };
    return { output, copyWeights };
  }

  private disposed = false;

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const layer of Object.values(this.layers)) for (const weight of layer.weights) weight.dispose();
  }
}

/** Layer name for a key inside a part. */
export function layerName(partName: string, key: string): string {
  return `${partName}_${key}`;
}
