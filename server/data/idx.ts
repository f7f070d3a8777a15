// The IDX format of MNIST and Fashion-MNIST: a folder with four files, gzipped or not.
//   header: 0x00 0x00, type byte 0x08 (unsigned bytes), number of dimensions, then one big-endian
//   uint32 per dimension; then the values. Images: 0x00000803 [count, rows, cols]; labels: 0x00000801 [count].
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors';
import type { UnsplitDataset } from './split';
import type { Split } from './types';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

/** The four files of an IDX folder, without the optional ".gz". */
export const IDX_FILE_NAMES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

const REFETCH = 're-download it or replace it with an intact copy';

interface IdxArray {
  file: string;
  dims: number[];
  values: Uint8Array;
}

/** The path of `baseName` in `folder`, plain or gzipped (also MNIST's "train-images.idx3-ubyte" spelling). */
export function findIdxFile(folder: string, baseName: string): string | undefined {
  const dotted = baseName.replace(/-(idx\d-ubyte)$/, '.$1');
  for (const name of [baseName, `${baseName}.gz`, dotted, `${dotted}.gz`]) {
    const path = join(folder, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** The IDX files missing from `folder` (names without .gz); empty when all four are there. */
export function missingIdxFiles(folder: string): string[] {
  return Object.values(IDX_FILE_NAMES).filter((name) => !findIdxFile(folder, name));
}

function readMaybeGzipped(file: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new DataError(file, `cannot be read (${(error as Error).message})`, 'check the path and permissions');
  }
  const gzipped = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (!gzipped) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (error) {
    throw new DataError(file, `is not a valid gzip file (${(error as Error).message})`, REFETCH);
  }
}

/** Reads one IDX file of unsigned bytes and checks its header against `expectedMagic` and its size. */
export function readIdxFile(file: string, expectedMagic: number): IdxArray {
  const bytes = readMaybeGzipped(file);
  const kind = expectedMagic === IDX_IMAGES_MAGIC ? 'an IDX images file' : 'an IDX labels file';
  if (bytes.length < 4) {
    throw new DataError(file, `is ${bytes.length} bytes long, too short for an IDX header`, REFETCH);
  }
  const magic = bytes.readUInt32BE(0);
  if (magic !== expectedMagic) {
    const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
    throw new DataError(
      file,
      `magic number ${hex(magic)} is not that of ${kind} (${hex(expectedMagic)})`,
      `check that the file is ${kind} of unsigned bytes and not swapped with another file, or ${REFETCH}`,
    );
  }
  const rank = magic & 0xff;
  const headerSize = 4 + 4 * rank;
  if (bytes.length < headerSize) {
    throw new DataError(file, `is truncated inside its header (${bytes.length} of ${headerSize} bytes)`, REFETCH);
  }
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(bytes.readUInt32BE(4 + 4 * d));
  const expectedValues = dims.reduce((a, b) => a * b, 1);
  const actualValues = bytes.length - headerSize;
  if (actualValues !== expectedValues) {
    const what = actualValues < expectedValues ? 'is truncated' : 'has trailing data';
    throw new DataError(
      file,
      `${what}: its header announces ${dims.join(' x ')} values (${expectedValues} bytes) but the file holds ${actualValues}`,
      REFETCH,
    );
  }
  return { file, dims, values: new Uint8Array(bytes.buffer, bytes.byteOffset + headerSize, actualValues) };
}

function requireFile(folder: string, baseName: string): string {
  const file = findIdxFile(folder, baseName);
  if (!file) {
    throw new DataError(
      folder,
      `has no ${baseName} (or ${baseName}.gz)`,
      `put the four IDX files (${Object.values(IDX_FILE_NAMES).join(', ')}, gzipped or not) in this folder`,
    );
  }
  return file;
}

function readImagesAndLabels(folder: string, imagesName: string, labelsName: string): { split: Split; rows: number; cols: number } {
  const images = readIdxFile(requireFile(folder, imagesName), IDX_IMAGES_MAGIC);
  const labels = readIdxFile(requireFile(folder, labelsName), IDX_LABELS_MAGIC);
  if (images.dims.length !== 3) {
    throw new DataError(images.file, `has ${images.dims.length} dimensions, expected 3 (count, rows, columns)`, REFETCH);
  }
  const [count, rows, cols] = images.dims;
  if (labels.dims[0] !== count) {
    throw new DataError(
      labels.file,
      `has ${labels.dims[0]} labels but ${images.file} has ${count} images`,
      'use the images and labels files that belong together',
    );
  }
  const x = new Float32Array(images.values.length);
  for (let i = 0; i < x.length; i++) x[i] = images.values[i] / 255;
  return { split: { x, y: Int32Array.from(labels.values), count }, rows, cols };
}

function maxLabel(labels: Int32Array): number {
  let max = -1;
  for (const label of labels) if (label > max) max = label;
  return max;
}

/**
 * Loads an IDX folder (MNIST layout). Pixels are scaled to [0, 1]; examples are [rows, cols, 1].
 * The number of classes is the largest training label + 1; test labels must fall in that range.
 */
export function loadIdxFolder(folder: string, name: string, classNames?: string[]): UnsplitDataset {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new DataError(folder, 'is not a folder', 'set data.path to the folder that holds the four IDX files');
  }
  const train = readImagesAndLabels(folder, IDX_FILE_NAMES.trainImages, IDX_FILE_NAMES.trainLabels);
  const test = readImagesAndLabels(folder, IDX_FILE_NAMES.testImages, IDX_FILE_NAMES.testLabels);
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new DataError(
      folder,
      `training images are ${train.rows}x${train.cols} but test images are ${test.rows}x${test.cols}`,
      'use training and test files from the same data set',
    );
  }
  const numClasses = maxLabel(train.split.y) + 1;
  if (numClasses < 2) {
    throw new DataError(join(folder, IDX_FILE_NAMES.trainLabels), 'has fewer than 2 distinct classes', REFETCH);
  }
  const testMax = maxLabel(test.split.y);
  if (testMax >= numClasses) {
    throw new DataError(
      join(folder, IDX_FILE_NAMES.testLabels),
      `has label ${testMax} but the training labels only go up to ${numClasses - 1}`,
      'use test labels from the same data set as the training labels',
    );
  }
  return {
    name,
    kind: 'image',
    exampleShape: [train.rows, train.cols, 1],
    numClasses,
    classNames: classNames?.length === numClasses ? classNames : undefined,
    trainPool: train.split,
    test: test.split,
    source: folder,
  };
}
