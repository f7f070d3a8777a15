// A loaded classification data set, already split. Features are float32 in [0, 1] (images) or
// standardised (csv); images are stored channels-last.
export interface Split {
  /** count * featureSize values, example-major. */
  x: Float32Array;
  /** count labels in [0, numClasses). */
  y: Int32Array;
  count: number;
}

export interface Dataset {
  name: string;
  /** Shape of one example: [features] for tabular, [height, width, channels] for images,
   *  [sequenceLength] of token ids (as floats) for sequences. */
  exampleShape: number[];
  numClasses: number;
  /** For sequence data: vocabulary size. */
  vocabSize?: number;
  train: Split;
  validation: Split;
  test: Split;
  /** Where it came from, for the run's record. */
  source: string;
}
