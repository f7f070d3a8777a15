// Tiny experiments and a synthetic data set for the method and run-store tests: fast on 2 cores.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { Dataset, Split } from '../../server/data/types';
import { DEFAULT_FINETUNE, DEFAULT_IMITATE, DEFAULT_MODEL, DEFAULT_WIDE } from '../../server/experiment/defaults';
import type { Experiment } from '../../server/experiment/types';
import { seededRandom } from '../../server/method/training/rng';

let ready: Promise<void> | undefined;
/** The wasm backend (what users get on a CPU machine), set once per test process. */
export function useWasm(): Promise<void> {
  ready ??= (async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  })();
  return ready;
}

/** Noisy clusters: each class is a random prototype in `features` dimensions plus Gaussian noise,
 *  pushed through a fixed random non-linearity so a deep net has something to learn. */
export function syntheticDataset(options: { features?: number; classes?: number; train?: number; test?: number; seed?: number } = {}): Dataset {
  const features = options.features ?? 16;
  const classes = options.classes ?? 4;
  const random = seededRandom(options.seed ?? 7);
  const gaussian = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const prototypes = Array.from({ length: classes }, () => Array.from({ length: features }, gaussian));
  const make = (count: number): Split => {
    const x = new Float32Array(count * features);
    const y = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const label = Math.floor(random() * classes);
      y[i] = label;
      for (let f = 0; f < features; f++) x[i * features + f] = Math.tanh(prototypes[label][f] + 0.9 * gaussian());
    }
    return { x, y, count };
  };
  return {
    name: 'synthetic',
    kind: 'tabular',
    exampleShape: [features],
    numClasses: classes,
    train: make(options.train ?? 1024),
    validation: make(256),
    test: make(options.test ?? 512),
    source: 'synthetic clusters (test fixture)',
  };
}

export function tinyExperiment(overrides: Partial<Experiment> = {}): Experiment {
  return {
    name: 'tiny',
    data: { format: 'synthetic', trainLimit: 0, testLimit: 0, validationSplit: 0.1 },
    model: { ...DEFAULT_MODEL.mlp, family: 'mlp', depth: 3, width: 8, downsampleAt: [] },
    widen: { factor: 4, mode: 'all' },
    wide: { ...DEFAULT_WIDE, epochs: 3, batchSize: 64, learningRate: 3e-3 },
    imitate: { ...DEFAULT_IMITATE, groups: 'block', epochsPerLayer: 1, batchSize: 64, learningRate: 3e-3 },
    finetune: { ...DEFAULT_FINETUNE, epochs: 1, batchSize: 64, learningRate: 3e-3 },
    baselines: ['scratch', 'kd'],
    seeds: [1],
    ...overrides,
  };
}
