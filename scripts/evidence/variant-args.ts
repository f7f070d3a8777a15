// `npm run evidence:variants`'s command line (variants.ts), apart so it can be tested.
import { resolve } from 'node:path';
import { OUTSIDE_SEEDS, outsideById, type OutsideSetting } from './outside-settings';
import { jobCount, readOptions, seedList } from './script-args';
import { variantsByName, type MethodVariant } from './variant-settings';

const USAGE = 'usage: npm run evidence:variants -- [--only ID,ID] [--variants NAME,NAME] [--seeds 1,2] [--runs-dir DIR] [--jobs N] [--report-only]';

export interface VariantArgs {
  settings: OutsideSetting[];
  variants: MethodVariant[];
  seeds: number[];
  runsDir: string;
  /** The local launcher's jobs at once (`gowide run --jobs N`); absent: one process. */
  jobs?: number;
  reportOnly: boolean;
}

export function readVariantArgs(argv: string[], defaultRunsDir: string): VariantArgs {
  const values = readOptions(
    argv,
    { only: { type: 'string' }, variants: { type: 'string' }, seeds: { type: 'string' }, 'runs-dir': { type: 'string' }, jobs: { type: 'string' }, 'report-only': { type: 'boolean' } },
    USAGE,
  );
  const seeds = seedList(values.seeds) ?? OUTSIDE_SEEDS;
  if (seeds.length === 0 || new Set(seeds).size !== seeds.length) throw new Error(`--seeds ${values.seeds}: give distinct seeds, e.g. 1,2`);
  const reportOnly = values['report-only'] ?? false;
  const runOnly = (['only', 'variants', 'seeds', 'jobs', 'runs-dir'] as const).filter((key) => values[key] !== undefined);
  if (reportOnly && runOnly.length > 0) {
    throw new Error(`--report-only runs nothing: it rewrites the table from docs/evidence/variants.json; drop ${runOnly.map((k) => `--${k}`).join(', ')}`);
  }
  return {
    settings: outsideById(values.only?.split(',')),
    variants: variantsByName(values.variants?.split(',')),
    seeds,
    runsDir: resolve(values['runs-dir'] ?? defaultRunsDir),
    jobs: jobCount(values.jobs),
    reportOnly,
  };
}
