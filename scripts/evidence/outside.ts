// `npm run evidence:outside [-- --only mlp-30x16,cnn-6x8] [--seeds 1,2] [--runs-dir DIR] [--jobs N] [--report-only]`
// Runs the pre-registered settings outside the study (outside-settings.ts; long, not part of CI): writes
// each setting's experiment file into the runs folder, runs it with `gowide run FILE --json` from a copy
// of dist/, keeps its report in docs/evidence/outside.json (after each setting, so an interrupted run
// keeps what finished) and rewrites the list and the results table in docs/EVIDENCE.md.
// --jobs N runs each setting's jobs N at a time (the CLI's local launcher); --report-only only rewrites
// the documents from the kept results.
import { join } from 'node:path';
import { ROOT } from './evidence-doc';
import { OUTSIDE_RESULTS as RESULTS, writeKeptDocuments } from './kept-sections';
import { resolveOutside, type OutsideResults } from './outside-report';
import { OUTSIDE_SEEDS, outsideById, outsideExperiment } from './outside-settings';
import { readKept, runEachAndKeep, throwIfFailed, type RunToKeep } from './keep-runs';
import { readRunScriptArgs, runScript, type RunScriptArgs } from './script-args';

const USAGE = 'usage: npm run evidence:outside -- [--only ID,ID] [--seeds 1,2] [--runs-dir DIR] [--jobs N] [--report-only]';

function readArgs(argv: string[]): RunScriptArgs & { seeds: number[] } {
  const args = readRunScriptArgs(argv, USAGE, join(ROOT, 'runs', 'evidence-outside'));
  return { ...args, seeds: args.seeds ?? OUTSIDE_SEEDS };
}

function writeReport(results: OutsideResults): void {
  writeKeptDocuments();
  console.log(`${Object.keys(results).length} setting(s) with results`);
}

async function main(): Promise<void> {
  const args = readArgs(process.argv.slice(2));
  const settings = outsideById(args.only);
  const results = readKept<OutsideResults>(RESULTS) ?? {};
  let failed: string[] = [];
  if (!args.reportOnly) {
    for (const s of settings) resolveOutside(s, args.seeds); // refuse a bad list before anything runs
    const runs = settings.map((s): RunToKeep => {
      const experiment = outsideExperiment(s, args.seeds);
      return {
        label: s.id,
        name: `outside-${s.id}`,
        experiment,
        keep: (ran) => {
          results[s.id] = { id: s.id, file: experiment, seeds: args.seeds, ...ran };
        },
      };
    });
    failed = await runEachAndKeep({ runs, runsDir: args.runsDir, jobs: args.jobs, results, resultsFile: RESULTS });
  }
  writeReport(results);
  throwIfFailed(failed);
}

runScript(main);
