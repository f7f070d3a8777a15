// Public API of the data module: what trainers import.
export { loadDataset, DATA_FORMATS, dataKindOf, knownExampleShape, resolveDataPath } from './load';
export type { Dataset, DataKind, Split } from './types';
export { featureSize } from './types';
export { DataError } from './errors';
export { Random, createRandom, shuffledIndices } from './random';
export { BUILTIN_DATASETS, BUILTIN_NAMES, generateBuiltin } from './builtin';
export { loadIdxFolder, readIdxFile } from './idx';
export { loadCsv, CSV_TEST_FRACTION } from './csv';
export { loadFashionMnist, findFashionMnist, DEBIAN_FASHION_MNIST, FASHION_MNIST_CLASSES } from './fashion-mnist';
