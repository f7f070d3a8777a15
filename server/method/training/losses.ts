// The losses of the three stages. All return a scalar mean over the batch.
import * as tf from '@tensorflow/tfjs';

/** Softmax cross-entropy of logits [batch, classes] against integer labels [batch]. */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const numClasses = logits.shape[logits.shape.length - 1] as number;
    const oneHot = tf.oneHot(labels, numClasses).toFloat();
    const logProbs = tf.logSoftmax(logits);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logProbs), -1))) as tf.Scalar;
  });
}

/** KL(softmax(teacher/T) || softmax(student/T)) per batch mean, times T^2 (Hinton et al.), so
 *  gradients keep the same scale whatever the temperature. */
export function distillation(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, temperature: number): tf.Scalar {
  return tf.tidy(() => {
    const t = temperature;
    const teacherLog = tf.logSoftmax(tf.div(teacherLogits, t));
    const studentLog = tf.logSoftmax(tf.div(studentLogits, t));
    const kl = tf.sum(tf.mul(tf.exp(teacherLog), tf.sub(teacherLog, studentLog)), -1);
    return tf.mul(tf.mean(kl), t * t) as tf.Scalar;
  });
}

/** a * CE + (1 - a) * T^2 * KL, with kdWeight = 1 - a; kdWeight 0 is plain cross-entropy. */
export function kdLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor | undefined,
  labels: tf.Tensor1D,
  kdWeight: number,
  temperature: number,
): tf.Scalar {
  return tf.tidy(() => {
    const ce = crossEntropy(studentLogits, labels);
    if (!teacherLogits || kdWeight <= 0) return ce;
    const kd = distillation(studentLogits, teacherLogits, temperature);
    return tf.add(tf.mul(ce, 1 - kdWeight), tf.mul(kd, kdWeight)) as tf.Scalar;
  });
}

/** Parameter-free LayerNorm over the feature axis: every example's features (all but the batch
 *  axis, so channels and positions of a feature map together) get zero mean and unit variance. */
export function featureNormalize(x: tf.Tensor, epsilon = 1e-5): tf.Tensor {
  return tf.tidy(() => {
    const flat = tf.reshape(x, [x.shape[0], -1]);
    const { mean, variance } = tf.moments(flat, -1, true);
    return tf.div(tf.sub(flat, mean), tf.sqrt(tf.add(variance, epsilon)));
  });
}

/** Imitation loss: mean squared error between prediction and target, both normalised by default
 *  (their raw scales differ by orders of magnitude between thin and wide nets). */
export function imitationLoss(prediction: tf.Tensor, target: tf.Tensor, normalize: boolean): tf.Scalar {
  return tf.tidy(() => {
    const p = normalize ? featureNormalize(prediction) : tf.reshape(prediction, [prediction.shape[0], -1]);
    const t = normalize ? featureNormalize(target) : tf.reshape(target, [target.shape[0], -1]);
    return tf.mean(tf.squaredDifference(p, t)) as tf.Scalar;
  });
}
