// `npm run evidence:sweep [-- --launcher local|slurm] [--jobs N] [--slurm-option ARG ...] [--seeds 1,2,3] [--runs-dir DIR] [--report-only]`
// "Which factor pays?": sweeps the MLP study's example over widen.factor 2, 4, 8 (factor-study.ts)
// with a copy of dist/, keeps the result in docs/evidence/mlp-factors.<launcher>.json ("one-process"
// without a launcher), draws docs/evidence/mlp-factors.png and rewrites the generated:mlp-factors part
// of docs/EVIDENCE.md (with the launchers' wall times side by side when more than one is kept).
// Long: an estimated 20 minutes for 3 seeds on 2 cores as one process. --report-only redraws from the kept results.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LaunchOptions } from '../../server/protocol';
import { EVIDENCE_DIR, ROOT, writeGenerated } from './evidence-doc';
import { factorSection, referenceResult } from './factor-report';
import { FACTOR_STUDY, runFactorSweep, type FactorSweepResult } from './factor-study';
import { writePngs } from './png';
import { snapshotBuild } from './run-study';
import { readOptions, seedList } from './script-args';
import { sweepChartSvg } from './sweep-svg';

const USAGE = 'usage: npm run evidence:sweep -- [--launcher local|slurm] [--jobs N] [--slurm-option ARG ...] [--seeds 1,2,3] [--runs-dir DIR] [--report-only]';
const RESULT = new RegExp(`^${FACTOR_STUDY.id}\\.([a-z-]+)\\.json$`);
const resultFile = (launcher: string) => join(EVIDENCE_DIR, `${FACTOR_STUDY.id}.${launcher}.json`);

function options(argv: string[]) {
  const values = readOptions(
    argv,
    {
      launcher: { type: 'string' },
      jobs: { type: 'string' },
      'slurm-option': { type: 'string', multiple: true },
      seeds: { type: 'string' },
      'runs-dir': { type: 'string' },
      'report-only': { type: 'boolean' },
    },
    USAGE,
  );
  // The launcher flags go to `gowide run` as given; its own parser checks them (sweepRunArgs).
  const launchArgs = [
    ...(values.launcher !== undefined ? ['--launcher', values.launcher] : []),
    ...(values.jobs !== undefined ? ['--jobs', values.jobs] : []),
    ...(values['slurm-option'] ?? []).map((o) => `--slurm-option=${o}`),
  ];
  return { launchArgs, seeds: seedList(values.seeds), runsDir: resolve(values['runs-dir'] ?? join(ROOT, 'runs', 'evidence')), reportOnly: values['report-only'] ?? false };
}

function keptResults(): FactorSweepResult[] {
  if (!existsSync(EVIDENCE_DIR)) return [];
  return readdirSync(EVIDENCE_DIR)
    .filter((name) => RESULT.test(name))
    .map((name) => JSON.parse(readFileSync(join(EVIDENCE_DIR, name), 'utf8')) as FactorSweepResult);
}

async function main(): Promise<void> {
  const args = options(process.argv.slice(2));
  mkdirSync(EVIDENCE_DIR, { recursive: true });
  if (!args.reportOnly) {
    // Slurm may run the jobs on other nodes: their CLI must be on the shared file system, as the runs are.
    const cli = (launch: LaunchOptions | undefined) => snapshotBuild(ROOT, launch?.launcher === 'slurm' ? args.runsDir : undefined);
    console.log(`[${new Date().toISOString().slice(11, 19)}] ${FACTOR_STUDY.example} over ${FACTOR_STUDY.field} ${FACTOR_STUDY.values.join(', ')}${args.launchArgs.length ? ` (${args.launchArgs.join(' ')})` : ''}`);
    const result = await runFactorSweep({ study: FACTOR_STUDY, root: ROOT, cli, runsDir: args.runsDir, seeds: args.seeds, launchArgs: args.launchArgs, log: (line) => console.error(`  ${line}`) });
    writeFileSync(resultFile(result.launcher), `${JSON.stringify(result, null, 1)}\n`);
    console.log(`  done in ${(result.wallSeconds / 60).toFixed(1)} min: ${resultFile(result.launcher)}`);
  }
  const results = keptResults();
  const shown = referenceResult(results);
  if (!shown) throw new Error(`no kept results in ${EVIDENCE_DIR}: run npm run evidence:sweep without --report-only first`);
  const png = join(EVIDENCE_DIR, `${FACTOR_STUDY.id}.png`);
  await writePngs([{ path: png, svg: sweepChartSvg({ title: `${FACTOR_STUDY.title} (mean of ${shown.seeds.length} seeds)`, sweep: shown.sweep, field: FACTOR_STUDY.field }) }]);
  writeGenerated({ [FACTOR_STUDY.id]: factorSection(results, `evidence/${FACTOR_STUDY.id}.png`) });
  console.log(`wrote ${png} and the ${FACTOR_STUDY.id} part of docs/EVIDENCE.md from ${results.map((r) => r.launcher).join(', ')}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
