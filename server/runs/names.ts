// Run folder names: derived from the experiment name, sanitised so they can never leave runsDir.
import * as path from 'node:path';

/** Letters, digits, '-', '_' and '.' only; no leading dots and no two dots in a row (runPath refuses
 *  ".." anywhere in a run id); at most 64 characters; never empty. */
export function sanitizeName(name: string): string {
  const cleaned = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+/, '')
    .replace(/-+$/, '')
    .slice(0, 64);
  return cleaned.length > 0 ? cleaned : 'experiment';
}

/** `<name>-<YYYYMMDD-HHMMSS>` in UTC. */
export function runFolderName(experimentName: string, when: Date): string {
  const stamp = when.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${sanitizeName(experimentName)}-${stamp}`;
}

/** A path inside runsDir for a run id, refusing ids that would resolve elsewhere. */
export function runPath(runsDir: string, runId: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(runId) || runId.includes('..')) {
    throw new Error(`"${runId}" is not a run id (letters, digits, '.', '_' and '-' only)`);
  }
  const root = path.resolve(runsDir);
  const full = path.resolve(root, runId);
  if (path.dirname(full) !== root) throw new Error(`run id "${runId}" leaves the runs folder`);
  return full;
}

/** The runs folder holding a run's folder (RunSummary.runDir): runPath's inverse. */
export function runsFolderOf(runDir: string): string {
  return path.dirname(path.resolve(runDir));
}

/** The default runs folder: `.gowide-runs` next to the experiment file. */
export function defaultRunsDir(experimentPath: string): string {
  return path.join(path.dirname(path.resolve(experimentPath)), '.gowide-runs');
}
