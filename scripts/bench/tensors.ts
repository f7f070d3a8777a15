// TF.js tensor count across epochs: a few epochs of plain training (tidied Adam steps, the loss read
// back every 10 steps, a validation pass at the end of each epoch) with tf.memory().numTensors
// recorded after each epoch. The count must not grow.
import * as tf from '@tensorflow/tfjs';
import { randomBatches, type BenchModel } from './models';
import { benchAdam } from './optimizer';

export interface TensorTrace {
  name: string;
  /** tf.memory().numTensors after each epoch. */
  perEpoch: number[];
  epochs: number;
  stepsPerEpoch: number;
  grows: boolean;
  seconds: number;
}

export function tensorCountAcrossEpochs(model: BenchModel, epochs = 4, stepsPerEpoch = 10): TensorTrace {
  const started = performance.now();
  const built = model.build();
  const optimizer = benchAdam(built.variables);
  const batches = randomBatches(model.data, 4);
  const perEpoch: number[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (let step = 0; step < stepsPerEpoch; step++) {
        const { x, y } = batches[step % batches.length];
        const read = (step + 1) % 10 === 0 || step === stepsPerEpoch - 1;
        const loss = optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(y, built.forward(x)) as tf.Scalar,
          read,
        );
        if (loss) {
          loss.dataSync();
          loss.dispose();
        }
      }
      // Validation-like pass: forward only, read back.
      tf.tidy(() => tf.losses.softmaxCrossEntropy(batches[0].y, built.forward(batches[0].x)).dataSync());
      perEpoch.push(tf.memory().numTensors);
    }
  } finally {
    batches.forEach(({ x, y }) => tf.dispose([x, y]));
    optimizer.dispose();
    built.dispose();
  }
  // Adam's slots exist from the first step on, so any count above the first epoch's is growth.
  const grows = perEpoch.some((count) => count > perEpoch[0]);
  return { name: model.name, epochs, stepsPerEpoch, perEpoch, grows, seconds: (performance.now() - started) / 1000 };
}
