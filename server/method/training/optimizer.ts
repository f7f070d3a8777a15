// Optimizers written over tf ops (adam, sgd, momentum) so that learning-rate schedules restart per
// phase and every variable group can carry its own learning-rate multiplier ("slow" lower blocks).
import * as tf from '@tensorflow/tfjs';
import type { LearningRateSchedule, OptimizerName } from '../../experiment/types';
import { ADAM_STEP } from '../../engine/native/elementwise-kernels';

export interface VariableGroup {
  variables: tf.Variable[];
  /** Multiplies the scheduled learning rate for these variables (1 = full rate, 0 = frozen). */
  lrMultiplier: number;
}

export interface OptimizerSettings {
  optimizer: OptimizerName;
  learningRate: number;
  schedule: LearningRateSchedule;
  weightDecay?: number;
  /** Total steps of the phase, for the cosine schedule. */
  totalSteps: number;
}

/** Share of a phase's steps that "warmup-cosine" spends ramping the rate up linearly. */
export const WARMUP_SHARE = 0.1;

/** Learning rate at `step` (0-based) of a phase: constant, cosine decay to 0 over totalSteps, or a
 *  linear warm-up then cosine decay over the remaining steps. */
export function scheduledLearningRate(s: OptimizerSettings, step: number): number {
  if (s.schedule === 'constant' || s.totalSteps <= 1) return s.learningRate;
  const warmup = s.schedule === 'warmup-cosine' ? Math.max(1, Math.round(WARMUP_SHARE * s.totalSteps)) : 0;
  if (step < warmup) return (s.learningRate * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, s.totalSteps - warmup));
  return s.learningRate * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** Adam's constants (as in Kingma and Ba; epsilon as TF.js's float32 default). */
const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

interface SlotState {
  first?: tf.Variable;
  second?: tf.Variable;
}

export class GroupOptimizer {
  private readonly slots = new Map<tf.Variable, SlotState>();
  private stepCount = 0;
  readonly variables: tf.Variable[];
  private readonly multiplier = new Map<tf.Variable, number>();

  constructor(
    private readonly settings: OptimizerSettings,
    groups: VariableGroup[],
  ) {
    this.variables = [];
    for (const g of groups) {
      if (g.lrMultiplier <= 0) continue;
      for (const v of g.variables) {
        if (this.multiplier.has(v)) continue;
        this.multiplier.set(v, g.lrMultiplier);
        this.variables.push(v);
      }
    }
  }

  get learningRate(): number {
    return scheduledLearningRate(this.settings, this.stepCount);
  }

  /** Applies one update; call inside tf.tidy with gradients from tf.variableGrads. */
  apply(grads: Record<string, tf.Tensor>): void {
    const lr = this.learningRate;
    this.stepCount++;
    const t = this.stepCount;
    const decay = this.settings.weightDecay ?? 0;
    // Adam as one kernel per variable where the active backend has it (wasm with the native addon,
    // webgpu): the same maths.
    const fusedAdam = this.settings.optimizer === 'adam' && tf.getKernel(ADAM_STEP, tf.getBackend()) != null;
    for (const v of this.variables) {
      const g = grads[v.name];
      if (!g) continue;
      const rate = lr * (this.multiplier.get(v) ?? 1);
      const slot = this.slotFor(v);
      // Decoupled weight decay (AdamW style), skipped for biases.
      const variableDecay = decay > 0 && v.shape.length > 1 ? decay : 0;
      if (fusedAdam && v.dtype === 'float32' && g.dtype === 'float32') {
        const attrs = { ...ADAM, c1: 1 - Math.pow(ADAM.beta1, t), c2: 1 - Math.pow(ADAM.beta2, t), rate, decay: variableDecay };
        const inputs = { x: v, g, m: slot.first!, v: slot.second! };
        const [value, first, second] = tf.engine().runKernel(ADAM_STEP, inputs, attrs) as tf.Tensor[];
        slot.first!.assign(first);
        slot.second!.assign(second);
        v.assign(value);
        continue;
      }
      let update: tf.Tensor;
      switch (this.settings.optimizer) {
        case 'adam': {
          const { beta1: b1, beta2: b2, epsilon } = ADAM;
          const m = tf.add(tf.mul(slot.first!, b1), tf.mul(g, 1 - b1));
          const s = tf.add(tf.mul(slot.second!, b2), tf.mul(tf.square(g), 1 - b2));
          slot.first!.assign(m);
          slot.second!.assign(s);
          const mHat = tf.div(m, 1 - Math.pow(b1, t));
          const sHat = tf.div(s, 1 - Math.pow(b2, t));
          update = tf.div(mHat, tf.add(tf.sqrt(sHat), epsilon));
          break;
        }
        case 'momentum': {
          const m = tf.add(tf.mul(slot.first!, 0.9), g);
          slot.first!.assign(m);
          update = m;
          break;
        }
        default:
          update = g;
      }
      if (variableDecay > 0) update = tf.add(update, tf.mul(v, variableDecay));
      v.assign(tf.sub(v, tf.mul(update, rate)));
    }
  }

  private slotFor(v: tf.Variable): SlotState {
    let slot = this.slots.get(v);
    if (!slot) {
      slot = {};
      if (this.settings.optimizer !== 'sgd') slot.first = tf.variable(tf.zerosLike(v), false);
      if (this.settings.optimizer === 'adam') slot.second = tf.variable(tf.zerosLike(v), false);
      this.slots.set(v, slot);
    }
    return slot;
  }

  dispose(): void {
    for (const s of this.slots.values()) {
      s.first?.dispose();
      s.second?.dispose();
    }
    this.slots.clear();
  }
}
