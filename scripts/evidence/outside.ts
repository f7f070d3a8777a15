// `npm run evidence:outside [-- --only mlp-30x16,cnn-6x8] [--seeds 1,2] [--runs-dir DIR] [--jobs N] [--report-only]`
// Runs the pre-registered settings outside the study (outside-settings.ts; long, not part of CI): writes
// each setting's experiment file into the runs folder, runs it with `gowide run FILE --json` from a copy
// of dist/, keeps its report in docs/evidence/outside.json (after each setting, so an interrupted run
// keeps what finished) and rewrites the list and the results table in docs/EVIDENCE.md.
// --jobs N runs each setting's jobs N at a time (the CLI's local launcher); --report-only only rewrites
// the document from the kept results.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVIDENCE_DIR, EVIDENCE_DOC, ROOT, writeGenerated } from './evidence-doc';
import { outsideDiagnosisTable } from './outside-diagnosis';
import { outsideListTable, outsideResultsTable, resolveOutside, type OutsideResults } from './outside-report';
import { OUTSIDE_SEEDS, outsideById, outsideExperiment } from './outside-settings';
import { ranOn, runJsonReport, snapshotBuild } from './run-study';
import { readRunScriptArgs, type RunScriptArgs } from './script-args';

const RESULTS = join(EVIDENCE_DIR, 'outside.json');
const USAGE = 'usage: npm run evidence:outside -- [--only ID,ID] [--seeds 1,2] [--runs-dir DIR] [--jobs N] [--report-only]';

function readArgs(argv: string[]): RunScriptArgs & { seeds: number[] } {
  const args = readRunScriptArgs(argv, USAGE, join(ROOT, 'runs', 'evidence-outside'));
  return { ...args, seeds: args.seeds ?? OUTSIDE_SEEDS };
}

function storedResults(): OutsideResults {
  if (!existsSync(RESULTS)) return {};
  try {
    return JSON.parse(readFileSync(RESULTS, 'utf8')) as OutsideResults;
  } catch (err) {
    throw new Error(`${RESULTS} is not valid JSON (${err instanceof Error ? err.message : err}): fix or remove it; nothing was run`);
  }
}

function writeReport(results: OutsideResults): void {
  writeGenerated({ 'outside-list': outsideListTable(), 'outside-results': outsideResultsTable(results), 'outside-diagnosis': outsideDiagnosisTable(results) });
  console.log(`wrote ${EVIDENCE_DOC} (${Object.keys(results).length} setting(s) with results)`);
}

async function main(): Promise<void> {
  const args = readArgs(process.argv.slice(2));
  const settings = outsideById(args.only);
  const results = storedResults();
  const failed: string[] = [];
  if (!args.reportOnly) {
    for (const s of settings) resolveOutside(s, args.seeds); // refuse a bad list before anything runs
    const cli = snapshotBuild(ROOT);
    mkdirSync(args.runsDir, { recursive: true });
    mkdirSync(EVIDENCE_DIR, { recursive: true });
    for (const s of settings) {
      const file = join(args.runsDir, `outside-${s.id}.gowide.json`);
      const experiment = outsideExperiment(s, args.seeds);
      writeFileSync(file, `${JSON.stringify(experiment, null, 2)}\n`);
      console.log(`[${new Date().toISOString().slice(11, 19)}] ${s.id}: ${file}`);
      try {
        const extraArgs = args.jobs === undefined ? [] : ['--jobs', String(args.jobs)];
        const { report, seconds } = await runJsonReport({ cli, file, cwd: ROOT, runsDir: args.runsDir, extraArgs, log: () => undefined });
        results[s.id] = { id: s.id, file: experiment, seeds: args.seeds, finishedAt: new Date().toISOString(), seconds, report, ranOn: ranOn() };
        writeFileSync(RESULTS, `${JSON.stringify(results, null, 1)}\n`);
        const p = report.paired?.['win-scratch'];
        console.log(`  done in ${(seconds / 60).toFixed(1)} min${p ? `: win - scratch ${(p.mean * 100).toFixed(2)} points, ${p.ahead} of ${p.seeds} seeds ahead` : ''}`);
      } catch (err) {
        failed.push(s.id);
        console.error(`  ${s.id} failed: ${err instanceof Error ? err.message : err}`);
      }
    }
  }
  writeReport(results);
  if (failed.length > 0) throw new Error(`${failed.length} setting(s) failed and have no new result: ${failed.join(', ')}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
