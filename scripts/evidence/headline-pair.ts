// `npm run evidence:headline [-- --seeds 1,2,3] [--runs-dir DIR] [--jobs N] [--report-only]`
// The paper's headline at our scale (headline-settings.ts): derives the thin and the deep experiment
// files from the residual study's example, writes them into the runs folder, runs each with
// `gowide run FILE --json` from a copy of dist/ (the deep one with its baselines only), keeps the
// reports in docs/evidence/headline.json (after each run, so an interrupted run keeps what finished)
// and rewrites the generated parts of the documents (kept-sections.ts). --jobs N runs each run's jobs N
// at a time (the CLI's local launcher); --report-only only rewrites the documents from the kept results.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVIDENCE_DIR, ROOT } from './evidence-doc';
import { experimentText } from './example-file';
import { readHeadlineArgs } from './headline-args';
import type { HeadlineResults } from './headline-report';
import { HEADLINE_PAIR, HEADLINE_RUN_IDS, HEADLINE_RUNS, headlineFiles } from './headline-settings';
import { ranFields, readKept } from './keep-runs';
import { HEADLINE_RESULTS as RESULTS, writeKeptDocuments } from './kept-sections';
import { runJsonReport, snapshotBuild } from './run-study';
import { runScript } from './script-args';

async function main(): Promise<void> {
  const args = readHeadlineArgs(process.argv.slice(2), join(ROOT, 'runs', 'evidence-headline'));
  let results = readKept<HeadlineResults>(RESULTS);
  if (!args.reportOnly) {
    const examplePath = join(ROOT, HEADLINE_PAIR.study.file);
    const example = JSON.parse(readFileSync(examplePath, 'utf8')) as Record<string, unknown>;
    const files = headlineFiles(example, examplePath, args.seeds); // refuses a bad pair before anything runs
    const cli = snapshotBuild(ROOT);
    mkdirSync(args.runsDir, { recursive: true });
    mkdirSync(EVIDENCE_DIR, { recursive: true });
    results = { example: HEADLINE_PAIR.study.file, depthMultiplier: HEADLINE_PAIR.depthMultiplier, runs: {} };
    for (const id of HEADLINE_RUN_IDS) {
      const file = join(args.runsDir, `headline-${id}.gowide.json`);
      writeFileSync(file, experimentText(files[id].file));
      const runArgs = [...HEADLINE_RUNS[id].args, ...(args.jobs === undefined ? [] : ['--jobs', String(args.jobs)])];
      console.log(`[${new Date().toISOString().slice(11, 19)}] ${id}: gowide run ${file} ${runArgs.join(' ')}`);
      const { report, seconds } = await runJsonReport({ cli, file, cwd: ROOT, runsDir: args.runsDir, extraArgs: runArgs, log: () => undefined });
      results.runs[id] = { file: files[id].file, args: runArgs, seeds: args.seeds, ...ranFields(cli, report, seconds) };
      writeFileSync(RESULTS, `${JSON.stringify(results, null, 1)}\n`);
      console.log(`  done in ${(seconds / 60).toFixed(1)} min`);
    }
  }
  if (!results) throw new Error(`${RESULTS} is missing: run npm run evidence:headline without --report-only first`);
  writeKeptDocuments();
}

runScript(main);
