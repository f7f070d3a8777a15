// Built-in data sets, generated procedurally so the quick start works offline with nothing downloaded.
// Each is deterministic: the same seed gives the same examples, byte for byte, on every machine.
//   shapes:   16x16x1 grey images of 10 stroke shapes with random position, size, rotation, stroke width,
//             contrast and noise. Small noisy shapes are genuinely ambiguous (a small circle vs a disc vs a
//             square), so a good model is clearly above chance (10%) but not at 100%.
//   majority: token sequences (vocabulary 16, length 16); the label is which of the class tokens 0..3
//             occurs most often (tokens 4..15 are distractors). For the transformer family.
import { Random } from './random';
import type { UnsplitDataset } from './split';
import type { DataKind, Split } from './types';

export interface BuiltinInfo {
  kind: DataKind;
  exampleShape: number[];
  numClasses: number;
  vocabSize?: number;
  trainCount: number;
  testCount: number;
  description: string;
}

export const BUILTIN_DATASETS = {
  shapes: {
    kind: 'image',
    exampleShape: [16, 16, 1],
    numClasses: 10,
    trainCount: 8000,
    testCount: 2000,
    description: '16x16 grey images of 10 noisy stroke shapes (8000 train, 2000 test), generated offline',
  },
  majority: {
    kind: 'sequence',
    exampleShape: [16],
    numClasses: 4,
    vocabSize: 16,
    trainCount: 8000,
    testCount: 2000,
    description: 'sequences of 16 tokens (vocabulary 16); the label is the most frequent of tokens 0..3 (8000 train, 2000 test)',
  },
} as const satisfies Record<string, BuiltinInfo>;

export type BuiltinName = keyof typeof BUILTIN_DATASETS;
export const BUILTIN_NAMES = Object.keys(BUILTIN_DATASETS) as BuiltinName[];

export function isBuiltinName(name: string): name is BuiltinName {
  return Object.prototype.hasOwnProperty.call(BUILTIN_DATASETS, name);
}

/** The data itself never depends on the run's seed: every seed and arm sees the same examples. */
export const BUILTIN_DATA_SEED = 20200715;

export const SHAPE_CLASSES = [
  'horizontal line', 'vertical line', 'diagonal \\', 'diagonal /', 'plus', 'cross',
  'square', 'circle', 'disc', 'triangle',
];

function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}

/** Distance from local point (u, v) to the stroke of shape `shape` of half-size r. */
function shapeDistance(shape: number, u: number, v: number, r: number): number {
  const d = r * 0.75; // diagonals span the same box as the straight lines
  switch (shape) {
    case 0: return segmentDistance(u, v, -r, 0, r, 0);
    case 1: return segmentDistance(u, v, 0, -r, 0, r);
    case 2: return segmentDistance(u, v, -d, -d, d, d);
    case 3: return segmentDistance(u, v, -d, d, d, -d);
    case 4: return Math.min(segmentDistance(u, v, -r, 0, r, 0), segmentDistance(u, v, 0, -r, 0, r));
    case 5: return Math.min(segmentDistance(u, v, -d, -d, d, d), segmentDistance(u, v, -d, d, d, -d));
    case 6: return Math.abs(Math.max(Math.abs(u), Math.abs(v)) - r * 0.8);
    case 7: return Math.abs(Math.hypot(u, v) - r);
    case 8: return Math.max(0, Math.hypot(u, v) - r);
    default: {
      const [ax, ay, bx, by, cx, cy] = [0, -r, r * 0.87, r * 0.5, -r * 0.87, r * 0.5];
      return Math.min(segmentDistance(u, v, ax, ay, bx, by), segmentDistance(u, v, bx, by, cx, cy), segmentDistance(u, v, cx, cy, ax, ay));
    }
  }
}

function drawShape(random: Random, shape: number, out: Float32Array, offset: number, side: number): void {
  const r = random.uniform(2.5, 6.5);
  const margin = r * 0.8;
  const cx = random.uniform(margin, side - margin);
  const cy = random.uniform(margin, side - margin);
  const angle = random.uniform(-0.3, 0.3);
  const halfStroke = random.uniform(0.4, 1.2);
  const contrast = random.uniform(0.45, 1);
  const background = random.uniform(0, 0.2);
  const noise = random.uniform(0.08, 0.25);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const px = x + 0.5 - cx;
      const py = y + 0.5 - cy;
      const u = cos * px + sin * py;
      const v = -sin * px + cos * py;
      const ink = Math.max(0, Math.min(1, halfStroke + 0.5 - shapeDistance(shape, u, v, r)));
      const value = background + contrast * ink + noise * random.normal();
      out[offset + y * side + x] = Math.max(0, Math.min(1, value));
    }
  }
}

function generateShapesSplit(random: Random, count: number): Split {
  const side = 16;
  const x = new Float32Array(count * side * side);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = i % 10; // balanced classes, order shuffled by the split
    drawShape(random, y[i], x, i * side * side, side);
  }
  return { x, y, count };
}

/** The "shapes" images (see the file comment). */
export function generateShapes(seed: number, trainCount: number, testCount: number): UnsplitDataset {
  const random = new Random(seed);
  return {
    name: 'shapes',
    kind: 'image',
    exampleShape: [16, 16, 1],
    numClasses: 10,
    classNames: [...SHAPE_CLASSES],
    trainPool: generateShapesSplit(random, trainCount),
    test: generateShapesSplit(random, testCount),
    source: `built-in "shapes" (seed ${seed})`,
  };
}

function generateMajoritySplit(random: Random, count: number): Split {
  const { exampleShape, vocabSize, numClasses } = BUILTIN_DATASETS.majority;
  const length = exampleShape[0];
  const x = new Float32Array(count * length);
  const y = new Int32Array(count);
  const tokens = new Int32Array(length);
  for (let i = 0; i < count; i++) {
    const label = i % numClasses;
    for (let t = 0; t < length; t++) tokens[t] = random.int(vocabSize);
    // Add copies of the label token until it is the strict majority among the class tokens.
    for (;;) {
      const counts = new Array<number>(numClasses).fill(0);
      for (const token of tokens) if (token < numClasses) counts[token]++;
      const rival = Math.max(...counts.filter((_, c) => c !== label));
      if (counts[label] > rival) break;
      const position = random.int(length);
      if (tokens[position] !== label) tokens[position] = label;
    }
    x.set(tokens, i * length);
    y[i] = label;
  }
  return { x, y, count };
}

/** The "majority" sequences (see the file comment). */
export function generateMajority(seed: number, trainCount: number, testCount: number): UnsplitDataset {
  const info = BUILTIN_DATASETS.majority;
  const random = new Random(seed);
  return {
    name: 'majority',
    kind: 'sequence',
    exampleShape: [...info.exampleShape],
    numClasses: info.numClasses,
    vocabSize: info.vocabSize,
    classNames: ['token 0', 'token 1', 'token 2', 'token 3'],
    trainPool: generateMajoritySplit(random, trainCount),
    test: generateMajoritySplit(random, testCount),
    source: `built-in "majority" (seed ${seed})`,
  };
}

/** A built-in data set at its standard size, generated with BUILTIN_DATA_SEED unless told otherwise. */
export function generateBuiltin(name: BuiltinName, seed = BUILTIN_DATA_SEED): UnsplitDataset {
  const info = BUILTIN_DATASETS[name];
  return name === 'shapes'
    ? generateShapes(seed, info.trainCount, info.testCount)
    : generateMajority(seed, info.trainCount, info.testCount);
}
