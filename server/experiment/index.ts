// Public API of the experiment module: loading, resolving, validating and creating NAME.gowide.json.
export { loadExperimentFile, validateExperimentText, checkExperimentText } from './load';
export { resolveExperiment, knownFieldPaths } from './resolve';
export { ExperimentError, formatProblem, type LocatedProblem } from './errors';
export { createExperimentText, createExperimentFile } from './create';
export { estimateNets, blockFactor, formatCount } from './estimate';
export { parseJsonText, locateField } from './json-text';
export * from './defaults';
export type * from './types';
