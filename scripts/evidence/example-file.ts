// An experiment file derived from a committed example and written elsewhere (the runs folder): the
// example's data paths, relative to its own folder, are made absolute so the copy reads the same data,
// and the derived file is checked by the experiment checker before anything runs.
import { dirname } from 'node:path';
import { resolveDataPath } from '../../server/data/load';
import { checkExperimentText } from '../../server/experiment/load';
import type { Experiment } from '../../server/experiment/types';

type File = Record<string, unknown> & { data?: Record<string, unknown> };

/** The example's settings, its data paths made absolute (the rest unchanged). */
export function exampleForElsewhere(example: File, examplePath: string): File {
  if (!example.data) return { ...example };
  const data = { ...example.data };
  for (const key of ['path', 'testPath'] as const) {
    if (typeof data[key] === 'string') data[key] = resolveDataPath(data[key] as string, dirname(examplePath));
  }
  return { ...example, data };
}

export const experimentText = (file: Record<string, unknown>): string => `${JSON.stringify(file, null, 2)}\n`;

/** The file's experiment with its defaults filled in; throws, naming `what` and the checker's errors,
 *  when it would not run. */
export function checkedExperiment(text: string, path: string, what: string): Experiment {
  const checked = checkExperimentText(text, path);
  const errors = checked.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0 || !checked.experiment) throw new Error(`${what} does not check:\n${errors.map((p) => `  ${p.field}: ${p.message} (${p.fix})`).join('\n')}`);
  return checked.experiment;
}
