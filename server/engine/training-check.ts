// The check that makes a backend "ok": one real optimizer step on a tiny dense layer.
import * as tf from '@tensorflow/tfjs';

/**
 * Runs one SGD step of a 3->2 dense layer with a ReLU on the active backend (forward, gradients
 * through matMul/add/relu/mean, variable update) and throws unless the loss is finite and the weights
 * moved.
 */
export async function checkTrainingStep(): Promise<void> {
  const inputs = tf.tensor2d([
    [0.5, -1, 2],
    [1, 0.25, -0.5],
    [-1.5, 1, 0.75],
    [0.2, 0.4, -0.8],
  ]);
  const targets = tf.tensor2d([
    [1, 0],
    [0, 1],
    [1, 1],
    [0, 0.5],
  ]);
  const weights = tf.variable(
    tf.tensor2d([
      [0.3, -0.2],
      [0.1, 0.4],
      [-0.25, 0.2],
    ]),
    true,
    `gowide_probe_w_${Date.now()}_${Math.random()}`,
  );
  const bias = tf.variable(tf.tensor1d([0.1, 0.1]), true, `gowide_probe_b_${Date.now()}_${Math.random()}`);
  const optimizer = tf.train.sgd(0.5);
  try {
    const before = await weights.data();
    const loss = optimizer.minimize(
      () => tf.losses.meanSquaredError(targets, tf.relu(tf.add(tf.matMul(inputs, weights), bias))) as tf.Scalar,
      true,
      [weights, bias],
    );
    if (!loss) throw new Error('the optimizer returned no loss');
    const lossValue = (await loss.data())[0];
    loss.dispose();
    const after = await weights.data();
    if (!Number.isFinite(lossValue)) throw new Error(`the training step gave a non-finite loss (${lossValue})`);
    const moved = after.some((value, i) => Math.abs(value - before[i]) > 1e-7);
    if (!moved) throw new Error('the training step did not change the weights');
  } finally {
    optimizer.dispose();
    tf.dispose([inputs, targets, weights, bias]);
  }
}
