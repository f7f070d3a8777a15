// loadDataset: the one entry point trainers use to get a split data set for an experiment and a seed.
import { isAbsolute, resolve } from 'node:path';
import { BUILTIN_DATASETS, BUILTIN_NAMES, generateBuiltin, isBuiltinName } from './builtin';
import { loadCsv, standardizeFeatures } from './csv';
import { DataError } from './errors';
import { loadFashionMnist } from './fashion-mnist';
import { loadIdxFolder } from './idx';
import { splitDataset, type UnsplitDataset } from './split';
import type { DataKind, Dataset } from './types';
import type { DataConfig } from '../experiment/types';

/** Every value data.format accepts: the file formats, then the named data sets. */
export const DATA_FORMATS = ['idx', 'csv', 'fashion-mnist', ...BUILTIN_NAMES] as const;

/** What kind of examples a format gives; undefined for an unknown format. */
export function dataKindOf(format: string): DataKind | undefined {
  if (format === 'idx' || format === 'fashion-mnist') return 'image';
  if (format === 'csv') return 'tabular';
  return isBuiltinName(format) ? BUILTIN_DATASETS[format].kind : undefined;
}

/** The shape of one example and the class count when known without reading files (for estimates). */
export function knownExampleShape(format: string): { exampleShape: number[]; numClasses: number } | undefined {
  if (format === 'fashion-mnist') return { exampleShape: [28, 28, 1], numClasses: 10 };
  if (isBuiltinName(format)) {
    const info = BUILTIN_DATASETS[format];
    return { exampleShape: [...info.exampleShape], numClasses: info.numClasses };
  }
  return undefined;
}

/** data.path (or testPath) as an absolute path: relative paths are relative to the experiment's folder. */
export function resolveDataPath(path: string, experimentDir: string): string {
  return isAbsolute(path) ? path : resolve(experimentDir, path);
}

async function loadUnsplit(config: DataConfig, experimentDir: string): Promise<UnsplitDataset> {
  const path = config.path === undefined ? undefined : resolveDataPath(config.path, experimentDir);
  switch (config.format) {
    case 'idx':
      if (!path) throw new DataError(experimentDir, 'data.path is missing', 'set data.path to the folder with the IDX files');
      return loadIdxFolder(path, 'idx');
    case 'csv':
      if (!path) throw new DataError(experimentDir, 'data.path is missing', 'set data.path to the CSV file');
      return loadCsv(path, {
        labelColumn: config.labelColumn,
        testPath: config.testPath === undefined ? undefined : resolveDataPath(config.testPath, experimentDir),
      });
    case 'fashion-mnist':
      return loadFashionMnist(path);
    default:
      if (isBuiltinName(config.format)) return generateBuiltin(config.format);
      throw new DataError(experimentDir, `"${config.format}" is not a data format`, `use one of ${DATA_FORMATS.join(', ')}`);
  }
}

/**
 * Loads (or generates) the data set an experiment names and splits it for one seed:
 * train / validation from a seeded shuffle of the training file (see split.ts), test untouched and the
 * same for every seed. CSV features are standardised with the train split's statistics only.
 * Throws DataError (file, problem, fix) when the data is missing or malformed.
 */
export async function loadDataset(config: DataConfig, experimentDir: string, seed: number): Promise<Dataset> {
  const unsplit = await loadUnsplit(config, experimentDir);
  const dataset = splitDataset(unsplit, config, seed);
  if (dataset.kind === 'tabular') standardizeFeatures(dataset);
  return dataset;
}
