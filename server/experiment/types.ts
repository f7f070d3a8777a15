// The shape of a NAME.gowide.json experiment after defaults are applied.
// The JSON Schema in server/experiment/gowide.schema.json describes the file a user writes
// (every field but name, data and model optional); resolveExperiment() fills in the defaults.
import type { BackendName, BaselineName, ModelFamily } from '../protocol';

export type { BaselineName };

export type OptimizerName = 'adam' | 'sgd' | 'momentum';

/** The named imitation groupings; a whole number k (groups of k consecutive blocks) is the other kind. */
export const NAMED_IMITATION_GROUPINGS = ['block', 'stage'] as const;
export type ImitationGrouping = (typeof NAMED_IMITATION_GROUPINGS)[number] | number;
export type LearningRateSchedule = 'constant' | 'cosine' | 'warmup-cosine';

export interface DataConfig {
  /** "idx" (MNIST-style folder), "csv" (one file), "fashion-mnist", or a built-in data set name
   *  ("shapes" images, "majority" sequences). See DATA_FORMATS in server/data/load.ts. */
  format: string;
  /** Folder (idx) or file (csv); relative paths resolve against the experiment file's folder. */
  path?: string;
  /** Use at most this many training / test examples (0 = all). */
  trainLimit: number;
  testLimit: number;
  /** Fraction of the training examples held out for validation (never the test split). The test split
   *  is for the final evaluation only: trainers never select, early-stop or tune on it. */
  validationSplit: number;
  /** CSV: name or 0-based index of the label column (default: last column). */
  labelColumn?: string | number;
  /** CSV: a separate test file with the same columns. Absent: a fixed 20% of the rows (the same for
   *  every seed) is the test split; see server/data/csv.ts. */
  testPath?: string;
}

export interface ModelConfig {
  family: ModelFamily;
  /** Number of blocks (layers for mlp/cnn, bottleneck blocks for resnet, encoder layers for transformer). */
  depth: number;
  /** Thin width: units (mlp), channels (cnn, resnet block interface), hidden size (transformer). */
  width: number;
  activation: 'relu' | 'gelu' | 'tanh';
  /** cnn/resnet: kernel size of the main convolution. */
  kernelSize: number;
  /** cnn/resnet: indices of blocks after which the feature map is halved. */
  downsampleAt: number[];
  /** resnet: bottleneck inner channels = width * bottleneckRatio (the part the wide net widens). */
  bottleneckRatio: number;
  /** Batch normalisation inside blocks (cnn/resnet) or layer normalisation (transformer). */
  normalization: boolean;
  /** transformer: attention heads of the thin net, feed-forward size multiplier. */
  heads: number;
  ffnMultiplier: number;
  /** transformer on images: side of the square patches the image is cut into, one token each. */
  patchSize: number;
  dropout: number;
}

export interface WidenConfig {
  /** Widening factor applied to every block (>= 1). */
  factor: number;
  /** Optional per-block factors (length = depth), overriding factor. */
  perLayer?: number[];
  /** "inside": widen inside blocks and keep block interfaces (shared head, no projections);
   *  "all": widen block outputs too (thin->wide projections during imitation). */
  mode: 'inside' | 'all';
}

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  learningRate: number;
  schedule: LearningRateSchedule;
  weightDecay: number;
}

export interface ImitateConfig {
  epochsPerLayer: number;
  input: 'thin' | 'wide';
  lowerLayers: 'frozen' | 'slow' | 'train';
  /** Learning-rate multiplier for lower blocks when lowerLayers is "slow". */
  slowFactor: number;
  normalizeTargets: boolean;
  /** Share of each block's steps that trains only the thin->wide projection, before the block trains. */
  projectionWarmup: number;
  /** "block": every block matches its wide block; "stage": the blocks of a resolution stage train
   *  together against the stage's last output; a whole number k: groups of k consecutive blocks, bottom
   *  first (server/method/stages/imitation-groups.ts). */
  groups: ImitationGrouping;
  optimizer: OptimizerName;
  learningRate: number;
  schedule: LearningRateSchedule;
  batchSize: number;
}

export interface FinetuneConfig {
  epochs: number;
  /** Weight (1 - a) of the distillation term; 0 = cross-entropy only. */
  kdWeight: number;
  temperature: number;
  optimizer: OptimizerName;
  learningRate: number;
  schedule: LearningRateSchedule;
  batchSize: number;
}

export interface Experiment {
  name: string;
  description?: string;
  data: DataConfig;
  model: ModelConfig;
  widen: WidenConfig;
  wide: TrainConfig;
  imitate: ImitateConfig;
  finetune: FinetuneConfig;
  baselines: BaselineName[];
  seeds: number[];
  backend?: BackendName;
  /** Stop before imitation when the wide net's validation accuracy is below this (fraction). */
  minWideAccuracy?: number;
}
