// Naming and ordering of experiment files (NAME.gowide.json). Pure.
import * as path from 'node:path';

export const EXPERIMENT_SUFFIX = '.gowide.json';
export const EXPERIMENT_GLOB = '**/*.gowide.json';
/** Folders never searched for experiments: dependencies and run output. */
export const EXPERIMENT_EXCLUDE_GLOB = '**/{node_modules,.git,.gowide-runs}/**';

export function isExperimentFile(fsPath: string): boolean {
  return path.basename(fsPath).endsWith(EXPERIMENT_SUFFIX) && path.basename(fsPath).length > EXPERIMENT_SUFFIX.length;
}

export function experimentName(fsPath: string): string {
  const base = path.basename(fsPath);
  return base.endsWith(EXPERIMENT_SUFFIX) ? base.slice(0, -EXPERIMENT_SUFFIX.length) : base;
}

/** By folder, then name, so the tree order is stable across refreshes. */
export function compareExperimentPaths(a: string, b: string): number {
  const byFolder = path.dirname(a).localeCompare(path.dirname(b));
  return byFolder !== 0 ? byFolder : experimentName(a).localeCompare(experimentName(b));
}
