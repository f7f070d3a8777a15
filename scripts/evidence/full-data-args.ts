// `npm run evidence:full-data`'s command line (full-data.ts), apart so it can be tested.
import { resolve } from 'node:path';
import { FULL_DATA_SEEDS } from './full-data-settings';
import { jobCount, readOptions, seedList } from './script-args';
import { studiesById, type Study } from './studies';

const USAGE = 'usage: npm run evidence:full-data -- [--only ID,ID] [--seeds 1] [--runs-dir DIR] [--jobs N] [--report-only]';

export interface FullDataArgs {
  studies: Study[];
  seeds: number[];
  runsDir: string;
  /** The local launcher's jobs at once (`gowide run --jobs N`); absent: one process. */
  jobs?: number;
  reportOnly: boolean;
}

export function readFullDataArgs(argv: string[], defaultRunsDir: string): FullDataArgs {
  const values = readOptions(
    argv,
    { only: { type: 'string' }, seeds: { type: 'string' }, 'runs-dir': { type: 'string' }, jobs: { type: 'string' }, 'report-only': { type: 'boolean' } },
    USAGE,
  );
  const seeds = seedList(values.seeds) ?? FULL_DATA_SEEDS;
  if (seeds.length === 0 || new Set(seeds).size !== seeds.length) throw new Error(`--seeds ${values.seeds}: give distinct seeds, e.g. 1,2`);
  const reportOnly = values['report-only'] ?? false;
  const runOnly = (['only', 'seeds', 'jobs', 'runs-dir'] as const).filter((key) => values[key] !== undefined);
  if (reportOnly && runOnly.length > 0) {
    throw new Error(`--report-only runs nothing: it rewrites the table from docs/evidence/full-data.json; drop ${runOnly.map((k) => `--${k}`).join(', ')}`);
  }
  return {
    studies: studiesById(values.only?.split(',')),
    seeds,
    runsDir: resolve(values['runs-dir'] ?? defaultRunsDir),
    jobs: jobCount(values.jobs),
    reportOnly,
  };
}
