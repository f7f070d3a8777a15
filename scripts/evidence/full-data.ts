// `npm run evidence:full-data [-- --only ID,ID] [--seeds 1] [--runs-dir DIR] [--jobs N] [--report-only]`
// The study's settings at full data (full-data-settings.ts): for each chosen study, writes its example
// at full data into the runs folder, runs it with `gowide run FILE --json` from a copy of dist/, keeps
// the report and the images it used in docs/evidence/full-data.json (after each run, so an interrupted
// run keeps what finished) and rewrites the generated:full-data part of docs/EVIDENCE.md beside each
// study's kept result at its own size (docs/evidence/<id>.json). --report-only only rewrites the table.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadDataset } from '../../server/data/load';
import type { Experiment } from '../../server/experiment/types';
import { EVIDENCE_DIR, EVIDENCE_DOC, ROOT, writeGenerated } from './evidence-doc';
import { experimentText } from './example-file';
import { readFullDataArgs } from './full-data-args';
import { fullDataTable, type FullDataResults, type ImageCounts } from './full-data-report';
import { fullDataFile } from './full-data-settings';
import { ranOn, runJsonReport, snapshotBuild, type StudyResult } from './run-study';
import { STUDIES } from './studies';

const RESULTS = join(EVIDENCE_DIR, 'full-data.json');

function readKept<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${err instanceof Error ? err.message : err}): fix or remove it; nothing was run`);
  }
}

/** The images the run's data split gives (the counts do not depend on the seed). */
async function imagesOf(experiment: Experiment, file: string, seed: number): Promise<ImageCounts> {
  const data = await loadDataset(experiment.data, dirname(file), seed);
  return { train: data.train.count, validation: data.validation.count, test: data.test.count };
}

async function main(): Promise<void> {
  const args = readFullDataArgs(process.argv.slice(2), join(ROOT, 'runs', 'evidence-full-data'));
  const results = readKept<FullDataResults>(RESULTS) ?? {};
  const small = Object.fromEntries(STUDIES.map((s) => [s.id, readKept<StudyResult>(join(EVIDENCE_DIR, `${s.id}.json`))]));
  const failed: string[] = [];
  if (!args.reportOnly) {
    const runs = args.studies.map((study) => ({ study, ...fullDataFile(study, args.seeds) })); // every file checked before anything runs
    const cli = snapshotBuild(ROOT);
    mkdirSync(args.runsDir, { recursive: true });
    mkdirSync(EVIDENCE_DIR, { recursive: true });
    for (const { study, file: experimentFile, experiment } of runs) {
      const file = join(args.runsDir, `${experiment.name}.gowide.json`);
      writeFileSync(file, experimentText(experimentFile));
      console.log(`[${new Date().toISOString().slice(11, 19)}] ${study.id} at full data: ${file}`);
      try {
        const extraArgs = args.jobs === undefined ? [] : ['--jobs', String(args.jobs)];
        const { report, seconds } = await runJsonReport({ cli, file, cwd: ROOT, runsDir: args.runsDir, extraArgs, log: () => undefined });
        const images = await imagesOf(experiment, file, args.seeds[0]);
        results[study.id] = { id: study.id, file: experimentFile, seeds: args.seeds, images, finishedAt: new Date().toISOString(), seconds, report, ranOn: ranOn() };
        writeFileSync(RESULTS, `${JSON.stringify(results, null, 1)}\n`);
        const p = report.paired?.['win-scratch'];
        console.log(`  done in ${(seconds / 60).toFixed(1)} min${p ? `: win - scratch ${(p.mean * 100).toFixed(2)} points, ${p.ahead} of ${p.seeds} seeds ahead` : ''}`);
      } catch (err) {
        failed.push(study.id);
        console.error(`  ${study.id} failed: ${err instanceof Error ? err.message : err}`);
      }
    }
  }
  writeGenerated({ 'full-data': fullDataTable(results, small) });
  console.log(`wrote the full-data part of ${EVIDENCE_DOC} from ${RESULTS}`);
  if (failed.length > 0) throw new Error(`${failed.length} run(s) failed and have no new result: ${failed.join(', ')}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
