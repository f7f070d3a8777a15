// Rough size of the thin and wide nets an experiment describes, before any model is built: used to
// refuse configurations that cannot fit in memory and for editor hovers. Approximate by design (the
// models module owns the exact architecture); counts weights and biases of the main layers.
import type { ModelConfig, WidenConfig } from './types';

export interface SizeEstimate {
  params: number;
  /** Floats of activations per example kept for the backward pass. */
  activationsPerExample: number;
}

export interface NetEstimate {
  thin: SizeEstimate;
  wide: SizeEstimate;
  /** Bytes to train the wide net: weights, gradients and two Adam moments, plus a batch of activations. */
  wideTrainingBytes: number;
}

/** Factor of block i (perLayer wins over factor). */
export function blockFactor(widen: WidenConfig, block: number): number {
  return widen.perLayer?.[block] ?? widen.factor;
}

function estimateMlp(model: ModelConfig, inputSize: number, classes: number, factorAt: (i: number) => number, inside: boolean): SizeEstimate {
  let params = 0;
  let activations = 0;
  let previous = inputSize;
  for (let i = 0; i < model.depth; i++) {
    const wide = Math.round(model.width * factorAt(i));
    if (inside && factorAt(i) !== 1) {
      params += previous * wide + wide + wide * model.width + model.width;
      activations += wide + model.width;
      previous = model.width;
    } else {
      params += previous * wide + wide;
      activations += wide;
      previous = wide;
    }
  }
  return { params: params + previous * classes + classes, activationsPerExample: activations };
}

function estimateConv(model: ModelConfig, shape: number[], classes: number, factorAt: (i: number) => number, inside: boolean, residual: boolean): SizeEstimate {
  let [height, width, channels] = shape.length === 3 ? shape : [28, 28, 1];
  const k2 = model.kernelSize * model.kernelSize;
  let params = 0;
  let activations = 0;
  if (residual) {
    params += k2 * channels * model.width + model.width;
    channels = model.width;
  }
  for (let i = 0; i < model.depth; i++) {
    const factor = factorAt(i);
    if (residual) {
      const iface = inside ? model.width : Math.round(model.width * factor);
      const inner = Math.max(1, Math.round(model.width * model.bottleneckRatio * factor));
      params += channels * inner + inner * k2 * inner + inner * iface + 2 * inner + iface;
      activations += height * width * (2 * inner + iface);
      channels = iface;
    } else if (inside && factor !== 1) {
      const inner = Math.round(model.width * factor);
      params += k2 * channels * inner + inner + k2 * inner * model.width + model.width;
      activations += height * width * (inner + model.width);
      channels = model.width;
    } else {
      const out = Math.round(model.width * factor);
      params += k2 * channels * out + out;
      activations += height * width * out;
      channels = out;
    }
    if (model.downsampleAt.includes(i)) {
      height = Math.max(1, Math.floor(height / 2));
      width = Math.max(1, Math.floor(width / 2));
    }
  }
  return { params: params + channels * classes + classes, activationsPerExample: activations };
}

/** As server/models/transformer.ts builds it: weights of every layer, LayerNorms included. */
function estimateTransformer(model: ModelConfig, shape: number[], classes: number, vocabSize: number, factorAt: (i: number) => number, inside: boolean): SizeEstimate {
  const headDim = model.width / model.heads;
  const headsOf = (i: number): number => Math.max(1, Math.round(model.heads * factorAt(i)));
  const hiddenOf = (i: number): number => (inside ? model.width : headsOf(i) * headDim);
  const norms = (hidden: number): number => (model.normalization ? 2 * hidden : 0);
  const image = shape.length === 3;
  // Images: a bias-free patch embedding (patchSize^2 x channels -> hidden), one token per patch.
  const tokens = image ? Math.floor(shape[0] / model.patchSize) * Math.floor(shape[1] / model.patchSize) : shape[0] ?? 16;
  const embedding = image ? model.patchSize * model.patchSize * shape[2] : vocabSize;
  let params = (embedding + tokens) * hiddenOf(0) + norms(hiddenOf(0));
  let activations = 0;
  let previous = hiddenOf(0);
  for (let i = 0; i < model.depth; i++) {
    const hidden = hiddenOf(i);
    const inner = headsOf(i) * headDim;
    const ffn = Math.max(1, Math.round(model.width * model.ffnMultiplier * factorAt(i)));
    if (hidden !== previous) params += previous * hidden;
    params += 4 * hidden * inner + 3 * inner + hidden + 2 * hidden * ffn + ffn + hidden + 2 * norms(hidden);
    activations += tokens * (6 * hidden + ffn) + headsOf(i) * tokens * tokens;
    previous = hidden;
  }
  return { params: params + previous * classes + classes, activationsPerExample: activations };
}

function estimateNet(model: ModelConfig, shape: number[], classes: number, vocabSize: number, factorAt: (i: number) => number, inside: boolean): SizeEstimate {
  switch (model.family) {
    case 'mlp':
      return estimateMlp(model, shape.reduce((a, b) => a * b, 1), classes, factorAt, inside);
    case 'cnn':
      return estimateConv(model, shape, classes, factorAt, inside, false);
    case 'resnet':
      return estimateConv(model, shape, classes, factorAt, inside, true);
    case 'transformer':
      return estimateTransformer(model, shape, classes, vocabSize, factorAt, inside);
  }
}

/** Thin and wide sizes for an input of `exampleShape` and `numClasses` classes. */
export function estimateNets(model: ModelConfig, widen: WidenConfig, exampleShape: number[], numClasses: number, batchSize: number, vocabSize = 16): NetEstimate {
  const inside = widen.mode === 'inside';
  const thin = estimateNet(model, exampleShape, numClasses, vocabSize, () => 1, inside);
  const wide = estimateNet(model, exampleShape, numClasses, vocabSize, (i) => blockFactor(widen, i), inside);
  const wideTrainingBytes = 4 * (4 * wide.params + 2 * batchSize * wide.activationsPerExample);
  return { thin, wide, wideTrainingBytes };
}

/** "1.2M", "340k", "95". */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}k`;
  return String(Math.round(n));
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  return `${(bytes / 2 ** 10).toFixed(0)} KiB`;
}
