// `npm run evidence:full-data [-- --only ID,ID] [--seeds 1] [--runs-dir DIR] [--jobs N] [--report-only]`
// The study's settings at full data (full-data-settings.ts): for each chosen study, writes its example
// at full data into the runs folder, runs it with `gowide run FILE --json` from a copy of dist/, keeps
// the report and the images it used in docs/evidence/full-data.json (after each run, so an interrupted
// run keeps what finished) and rewrites the generated parts of the documents (kept-sections.ts): the
// full-data table puts each run beside its study's kept result at its own size (docs/evidence/<id>.json).
// --report-only only rewrites the documents.
import { dirname, join } from 'node:path';
import { loadDataset } from '../../server/data/load';
import type { Experiment } from '../../server/experiment/types';
import { ROOT } from './evidence-doc';
import { readFullDataArgs } from './full-data-args';
import type { FullDataResults, ImageCounts } from './full-data-report';
import { fullDataFile } from './full-data-settings';
import { readKept, runEachAndKeep, throwIfFailed, type RunToKeep } from './keep-runs';
import { FULL_DATA_RESULTS as RESULTS, writeKeptDocuments } from './kept-sections';
import { runScript } from './script-args';

/** The images the run's data split gives (the counts do not depend on the seed). */
async function imagesOf(experiment: Experiment, file: string, seed: number): Promise<ImageCounts> {
  const data = await loadDataset(experiment.data, dirname(file), seed);
  return { train: data.train.count, validation: data.validation.count, test: data.test.count };
}

async function main(): Promise<void> {
  const args = readFullDataArgs(process.argv.slice(2), join(ROOT, 'runs', 'evidence-full-data'));
  const results = readKept<FullDataResults>(RESULTS) ?? {};
  let failed: string[] = [];
  if (!args.reportOnly) {
    // Every file is derived and checked before anything runs.
    const runs = args.studies.map((study): RunToKeep => {
      const { file: experimentFile, experiment } = fullDataFile(study, args.seeds);
      return {
        label: `${study.id} at full data`,
        name: experiment.name,
        experiment: experimentFile,
        keep: async (ran, file) => {
          const images = await imagesOf(experiment, file, args.seeds[0]);
          results[study.id] = { id: study.id, file: experimentFile, seeds: args.seeds, images, ...ran };
        },
      };
    });
    failed = await runEachAndKeep({ runs, runsDir: args.runsDir, jobs: args.jobs, results, resultsFile: RESULTS });
  }
  writeKeptDocuments();
  throwIfFailed(failed);
}

runScript(main);
