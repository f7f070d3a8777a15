// `npm run evidence:headline`'s command line (headline-pair.ts), apart so it can be tested.
import { resolve } from 'node:path';
import { HEADLINE_PAIR } from './headline-settings';
import { jobCount, readOptions, seedList } from './script-args';

const USAGE = 'usage: npm run evidence:headline -- [--seeds 1,2,3] [--runs-dir DIR] [--jobs N] [--report-only]';

export interface HeadlineArgs {
  seeds: number[];
  runsDir: string;
  /** The local launcher's jobs at once (`gowide run --jobs N`); absent: one process. */
  jobs?: number;
  reportOnly: boolean;
}

export function readHeadlineArgs(argv: string[], defaultRunsDir: string): HeadlineArgs {
  const values = readOptions(argv, { seeds: { type: 'string' }, 'runs-dir': { type: 'string' }, jobs: { type: 'string' }, 'report-only': { type: 'boolean' } }, USAGE);
  const seeds = seedList(values.seeds) ?? HEADLINE_PAIR.seeds;
  if (seeds.length === 0 || new Set(seeds).size !== seeds.length) throw new Error(`--seeds ${values.seeds}: give distinct seeds, e.g. 1,2,3`);
  const reportOnly = values['report-only'] ?? false;
  if (reportOnly && (values.seeds !== undefined || values.jobs !== undefined || values['runs-dir'] !== undefined)) {
    throw new Error('--report-only runs nothing: it rewrites the table from docs/evidence/headline.json; drop --seeds, --jobs and --runs-dir');
  }
  return { seeds, runsDir: resolve(values['runs-dir'] ?? defaultRunsDir), jobs: jobCount(values.jobs), reportOnly };
}
