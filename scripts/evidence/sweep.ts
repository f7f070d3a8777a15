// `npm run evidence:sweep [-- --study mlp-factors|cnn-budget|resnet-budget] [--launcher local|slurm] [--jobs N] [--slurm-option ARG ...] [--seeds 1,2,3] [--runs-dir DIR] [--report-only]`
// Runs one sweep study (sweep-study.ts; mlp-factors unless told) with a copy of dist/, keeps the result
// in docs/evidence/<study>.<launcher>.json ("one-process" without a launcher), then, for every study
// with a kept result, draws docs/evidence/<study>.png and rewrites the generated parts (kept-sections.ts) of
// docs/EVIDENCE.md (with the launchers' wall times side by side when more than one is kept).
// Long: 20 minutes (mlp-factors, 3 seeds) to an hour (a budget study, 5 seeds) on 2 cores.
// --report-only redraws every study's picture and section from the kept results.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LaunchOptions } from '../../server/protocol';
import { EVIDENCE_DIR, ROOT } from './evidence-doc';
import { keptSweepResults, sweepResultFile, writeKeptDocuments } from './kept-sections';
import { writePngs } from './png';
import { snapshotBuild } from './run-study';
import { readOptions, runScript, seedList } from './script-args';
import { referenceResult } from './sweep-section';
import { FACTOR_STUDY, runSweepStudy, SWEEP_STUDIES, sweepStudyById, valueLabel, type SweepResult, type SweepStudy } from './sweep-study';
import { sweepChartSvg } from './sweep-svg';

const USAGE = `usage: npm run evidence:sweep -- [--study ${SWEEP_STUDIES.map((s) => s.id).join('|')}] [--launcher local|slurm] [--jobs N] [--slurm-option ARG ...] [--seeds 1,2,3] [--runs-dir DIR] [--report-only]`;

function options(argv: string[]) {
  const values = readOptions(
    argv,
    {
      study: { type: 'string' },
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
  return {
    study: values.study === undefined ? FACTOR_STUDY : sweepStudyById(values.study),
    launchArgs,
    seeds: seedList(values.seeds),
    runsDir: resolve(values['runs-dir'] ?? join(ROOT, 'runs', 'evidence')),
    reportOnly: values['report-only'] ?? false,
  };
}

async function drawPlot(study: SweepStudy, results: SweepResult[]): Promise<void> {
  const shown = referenceResult(results);
  if (!shown) return;
  const png = join(EVIDENCE_DIR, `${study.id}.png`);
  await writePngs([{ path: png, svg: sweepChartSvg({ title: `${study.title} (mean of ${shown.seeds.length} seeds)`, sweep: shown.sweep, field: study.field, label: (v) => valueLabel(study, v) }) }]);
  console.log(`wrote ${png} from ${results.map((r) => r.launcher).join(', ')}`);
}

async function main(): Promise<void> {
  const args = options(process.argv.slice(2));
  mkdirSync(EVIDENCE_DIR, { recursive: true });
  if (!args.reportOnly) {
    const { study } = args;
    // Slurm may run the jobs on other nodes: their CLI must be on the shared file system, as the runs are.
    const cli = (launch: LaunchOptions | undefined) => snapshotBuild(ROOT, launch?.launcher === 'slurm' ? args.runsDir : undefined);
    console.log(`[${new Date().toISOString().slice(11, 19)}] ${study.example} over ${study.field} ${study.values.join(', ')}${args.launchArgs.length ? ` (${args.launchArgs.join(' ')})` : ''}`);
    const result = await runSweepStudy({ study, root: ROOT, cli, runsDir: args.runsDir, seeds: args.seeds, launchArgs: args.launchArgs, log: (line) => console.error(`  ${line}`) });
    writeFileSync(sweepResultFile(study, result.launcher), `${JSON.stringify(result, null, 1)}\n`);
    console.log(`  done in ${(result.wallSeconds / 60).toFixed(1)} min: ${sweepResultFile(study, result.launcher)}`);
  }
  const kept = SWEEP_STUDIES.map((study) => ({ study, results: keptSweepResults(study) })).filter((k) => k.results.length > 0);
  if (kept.length === 0) throw new Error(`no kept results in ${EVIDENCE_DIR}: run npm run evidence:sweep without --report-only first`);
  for (const { study, results } of kept) await drawPlot(study, results);
  writeKeptDocuments();
}

runScript(main);
