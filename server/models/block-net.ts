// The BlockNet every family returns: stem -> blocks -> head, each a LayerPart.
import * as tf from '@tensorflow/tfjs';
import type { BlockNet, NetSpec } from './types';
import type { LayerPart } from './layer-part';

export class LayerBlockNet implements BlockNet {
  readonly params: number;
  readonly flops: number;

  constructor(
    readonly spec: NetSpec,
    readonly stem: LayerPart,
    readonly blocks: LayerPart[],
    readonly head: LayerPart,
  ) {
    const parts = this.parts();
    this.params = parts.reduce((sum, p) => sum + p.params, 0);
    this.flops = parts.reduce((sum, p) => sum + p.flops, 0);
  }

  private parts(): LayerPart[] {
    return [this.stem, ...this.blocks, this.head];
  }

  // Intermediate tensors are left to the caller's tf.tidy (they may be needed by a gradient tape).
  forward(x: tf.Tensor, training: boolean): tf.Tensor {
    let h = this.stem.apply(x, training);
    for (const block of this.blocks) h = block.apply(h, training);
    return this.head.apply(h, training);
  }

  hiddenStates(x: tf.Tensor, training: boolean, lastBlock = this.blocks.length - 1): tf.Tensor[] {
    if (lastBlock >= this.blocks.length) {
      throw new Error(`lastBlock ${lastBlock} is past the last block (${this.blocks.length - 1})`);
    }
    const states = [this.stem.apply(x, training)];
    for (let i = 0; i <= lastBlock; i++) states.push(this.blocks[i].apply(states[i], training));
    return states;
  }

  namedVariables(): Map<string, tf.Variable> {
    return new Map(this.parts().flatMap((p) => p.namedVariables()));
  }

  toLayersModel(): tf.LayersModel {
    const input = tf.input({ shape: this.spec.data.exampleShape, name: 'input' });
    let h = input;
    const copies: (() => void)[] = [];
    for (const part of this.parts()) {
      const wired = part.wireClone(h);
      h = wired.output;
      copies.push(wired.copyWeights);
    }
    const model = tf.model({ inputs: input, outputs: h, name: `gowide_${this.spec.family}` });
    for (const copy of copies) copy();
    return model;
  }

  dispose(): void {
    for (const part of this.parts()) part.dispose();
  }
}
