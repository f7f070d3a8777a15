// `npm run evidence [-- --only mlp,cnn] [--seeds 1,2,3,4,5] [--runs-dir DIR] [--jobs N] [--report-only]`
// Re-runs the evidence study (long: about an hour on 2 cores; not part of CI), keeps each study's
// results in docs/evidence/<id>.json, draws docs/evidence/<id>.png and rewrites the generated parts
// of docs/EVIDENCE.md (between the <!-- generated:... --> markers; the prose around them is kept).
// --jobs N runs each study's jobs N at a time (the CLI's local launcher); --report-only redraws the
// plots and tables from the stored results without training.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVIDENCE_DIR as OUT, EVIDENCE_DOC as DOC, README, ROOT, writeGenerated } from './evidence-doc';
import { writePngs } from './png';
import { chartSvg } from './plot-svg';
import { readKept } from './keep-runs';
import { earlierDefaultsTable } from './earlier-defaults';
import { headline, studySection } from './report';
import { screenTable, type Screen } from './screen-report';
import { runStudy, snapshotBuild, type StudyResult } from './run-study';
import { readRunScriptArgs, type RunScriptArgs } from './script-args';
import { STUDIES, studiesById } from './studies';

const USAGE = `usage: npm run evidence -- [--only ${STUDIES.map((s) => s.id).join(',')}] [--seeds 1,2,3,4,5] [--runs-dir DIR] [--jobs N] [--report-only]`;

function parseArgs(argv: string[]): RunScriptArgs {
  return readRunScriptArgs(argv, USAGE, join(ROOT, 'runs', 'evidence'));
}

const resultFile = (id: string) => join(OUT, `${id}.json`);

function storedResults(): StudyResult[] {
  // The study's title and regime come from studies.ts (they may be reworded after a run).
  return STUDIES.flatMap((s) => {
    const kept = readKept<StudyResult>(resultFile(s.id));
    return kept ? [{ ...kept, study: s }] : [];
  });
}

/** The study's kept runs under its earlier defaults beside the current one, those that are kept. */
function earlierSection(r: StudyResult): string | undefined {
  const earlier = (r.study.earlier ?? []).flatMap((e) => {
    const result = readKept<StudyResult>(join(OUT, e.json));
    return result ? [{ result, label: e.label }] : [];
  });
  return earlierDefaultsTable(r, earlier);
}

/** generated:<study>-screen for every study with a kept screen. */
function screenSections(): Record<string, string> {
  return Object.fromEntries(
    STUDIES.flatMap((s) => {
      const screen = s.screen && readKept<Screen>(join(OUT, s.screen));
      return screen ? [[`${s.id}-screen`, screenTable(screen)]] : [];
    }),
  );
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
  writeGenerated({ headline: headline(results), studies: results.map((r) => studySection(r, `evidence/${r.study.id}.png`, earlierSection(r))).join('\n\n'), ...screenSections() });
  writeGenerated({ headline: headline(results) }, README);
  console.log(`wrote ${DOC}, the headline table in ${README} and ${results.length} plot(s) in ${OUT}`);
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
      writeFileSync(resultFile(study.id), `${JSON.stringify(result, null, 1)}\n`);
      console.log(`  done in ${(result.wallSeconds / 60).toFixed(1)} min: ${headline([result]).split('\n').pop()}`);
    }
  }
  const results = storedResults();
  if (results.length === 0) throw new Error('no stored results in docs/evidence/: run npm run evidence without --report-only first');
  await writeReport(results);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
