// A loaded classification data set, already split. Features are float32 in [0, 1] (images),
// standardised with training statistics (csv), or token ids stored as floats (sequences);
// images are stored channels-last.
//
// Splits (see split.ts): the training file is shuffled with the run's seed, cut to trainLimit, and its
// last validationSplit fraction becomes `validation`. `test` is the first testLimit examples of the test
// file (or, for csv without testPath, a fixed fraction split off the file). The test split is for the
// final evaluation only: trainers must never select, early-stop or tune on it.

/** What an example is; decides which model families can use it. */
export type DataKind = 'image' | 'tabular' | 'sequence';

export interface Split {
  /** count * featureSize values, example-major. */
  x: Float32Array;
  /** count labels in [0, numClasses). */
  y: Int32Array;
  count: number;
}

export interface Dataset {
  name: string;
  kind: DataKind;
  /** Shape of one example: [features] for tabular, [height, width, channels] for images,
   *  [sequenceLength] of token ids (as floats) for sequences. */
  exampleShape: number[];
  numClasses: number;
  /** Class names when known (csv string labels, Fashion-MNIST, built-ins), index = class id. */
  classNames?: string[];
  /** For sequence data: vocabulary size (token ids are 0..vocabSize-1). */
  vocabSize?: number;
  train: Split;
  validation: Split;
  test: Split;
  /** Where it came from, for the run's record. */
  source: string;
}

/** Product of an example shape: the number of floats per example. */
export function featureSize(exampleShape: readonly number[]): number {
  return exampleShape.reduce((a, b) => a * b, 1);
}
