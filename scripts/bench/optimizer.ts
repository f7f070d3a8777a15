// The optimizer of the bench's training steps: gowide's own GroupOptimizer
// (server/method/training/optimizer.ts), which the sidecar and the CLI train with, as Adam 1e-3 at a constant
// rate. So the bench times the product's path (on wasm+native: one fused Adam kernel per variable),
// not tf.train.adam. The maths is the same as tf.train.adam(1e-3) (beta 0.9 / 0.999, epsilon 1e-7).
import * as tf from '@tensorflow/tfjs';
import { GroupOptimizer } from '../../server/method/training/optimizer';

export interface BenchOptimizer {
  /** One step: the loss's gradients with respect to the variables, applied; the loss when asked (else null). */
  minimize(loss: () => tf.Scalar, returnLoss: boolean): tf.Scalar | null;
  dispose(): void;
}

export function benchAdam(variables: tf.Variable[], learningRate = 1e-3): BenchOptimizer {
  const optimizer = new GroupOptimizer(
    { optimizer: 'adam', learningRate, schedule: 'constant', totalSteps: 1 },
    [{ variables, lrMultiplier: 1 }],
  );
  return {
    minimize(loss, returnLoss) {
      const value = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(loss, optimizer.variables);
        optimizer.apply(grads);
        return value;
      });
      if (returnLoss) return value;
      value.dispose();
      return null;
    },
    dispose: () => optimizer.dispose(),
  };
}
