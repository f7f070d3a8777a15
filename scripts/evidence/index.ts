// `npm run evidence [-- --only mlp,cnn] [--seeds 1,2,3,4,5] [--runs-dir DIR] [--jobs N] [--report-only]`
// Re-runs the evidence study (long: about an hour on 2 cores; not part of CI), keeps each study's
// results in docs/evidence/<id>.json, draws docs/evidence/<id>.png and rewrites the generated parts
// of docs/EVIDENCE.md and README.md (between the <!-- generated:... --> markers; the prose around them
// is kept; kept-sections.ts).
// --jobs N runs each study's jobs N at a time (the CLI's local launcher); --report-only redraws the
// plots and tables from the stored results without training.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVIDENCE_DIR as OUT, ROOT } from './evidence-doc';
import { writePngs } from './png';
import { chartSvg } from './plot-svg';
import { keptStudyResults, studyResultFile, writeKeptDocuments } from './kept-sections';
import { headline } from './report';
import { runStudy, snapshotBuild, type StudyResult } from './run-study';
import { readRunScriptArgs, runScript, type RunScriptArgs } from './script-args';
import { STUDIES, studiesById } from './studies';

const USAGE = `usage: npm run evidence -- [--only ${STUDIES.map((s) => s.id).join(',')}] [--seeds 1,2,3,4,5] [--runs-dir DIR] [--jobs N] [--report-only]`;

function parseArgs(argv: string[]): RunScriptArgs {
  return readRunScriptArgs(argv, USAGE, join(ROOT, 'runs', 'evidence'));
}

async function writeReport(results: StudyResult[]): Promise<void> {
  await writePngs(
    results.map((r) => ({
      path: join(OUT, `${r.study.id}.png`),
      svg: chartSvg({
        title: `${r.study.title}: validation accuracy against budget (mean of ${r.seeds.length} seeds)`,
        curves: r.curves,
        imitationEpochs: r.imitationEpochs,
        finalTest: Object.fromEntries(Object.entries(r.report.arms).map(([arm, a]) => [arm, a.accuracy.mean])),
      }),
    })),
  );
  writeKeptDocuments();
  console.log(`drew ${results.length} plot(s) in ${OUT}`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  mkdirSync(OUT, { recursive: true });
  if (!args.reportOnly) {
    const cli = snapshotBuild(ROOT);
    for (const study of studiesById(args.only)) {
      console.log(`[${new Date().toISOString().slice(11, 19)}] ${study.id}: ${study.file}`);
      const extraArgs = args.jobs === undefined ? [] : ['--jobs', String(args.jobs)];
      const result = await runStudy({ root: ROOT, cli, study, runsDir: args.runsDir, seeds: args.seeds, extraArgs, log: () => undefined });
      writeFileSync(studyResultFile(study.id), `${JSON.stringify(result, null, 1)}\n`);
      console.log(`  done in ${(result.wallSeconds / 60).toFixed(1)} min: ${headline([result]).split('\n').pop()}`);
    }
  }
  const results = keptStudyResults();
  if (results.length === 0) throw new Error('no stored results in docs/evidence/: run npm run evidence without --report-only first');
  await writeReport(results);
}

runScript(main);
