// `npm run evidence:variants [-- --only ID,ID] [--variants NAME,NAME] [--seeds 1,2] [--runs-dir DIR] [--jobs N] [--report-only]`
// Runs variants of the method's defaults (variant-settings.ts) on the pre-registered settings outside the
// study (long, not part of CI): for each variant and setting, writes the setting's experiment file with
// the variant's fields into the runs folder, runs it with `gowide run FILE --json` from a copy of dist/,
// keeps its report in docs/evidence/variants.json (after each run, so an interrupted run keeps what
// finished) and rewrites the generated:outside-variants part of docs/EVIDENCE.md, whose defaults column
// comes from the list's own run (docs/evidence/outside.json). --report-only only rewrites the table.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVIDENCE_DIR, EVIDENCE_DOC, ROOT, writeGenerated } from './evidence-doc';
import { experimentText } from './example-file';
import type { OutsideResults } from './outside-report';
import { ranOn, runJsonReport, snapshotBuild } from './run-study';
import { readVariantArgs } from './variant-args';
import { variantsTable, type VariantResults } from './variant-report';
import { variantFile } from './variant-settings';

const RESULTS = join(EVIDENCE_DIR, 'variants.json');
const OUTSIDE_RESULTS = join(EVIDENCE_DIR, 'outside.json');

function readKept<T>(file: string, empty: T): T {
  if (!existsSync(file)) return empty;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${err instanceof Error ? err.message : err}): fix or remove it; nothing was run`);
  }
}

async function main(): Promise<void> {
  const args = readVariantArgs(process.argv.slice(2), join(ROOT, 'runs', 'evidence-variants'));
  const results = readKept<VariantResults>(RESULTS, {});
  const outside = readKept<OutsideResults>(OUTSIDE_RESULTS, {});
  const failed: string[] = [];
  if (!args.reportOnly) {
    // Every file is derived and checked (budget kept) before anything runs.
    const runs = args.variants.flatMap((v) => args.settings.map((s) => ({ v, s, ...variantFile(s, v, args.seeds) })));
    const cli = snapshotBuild(ROOT);
    mkdirSync(args.runsDir, { recursive: true });
    mkdirSync(EVIDENCE_DIR, { recursive: true });
    for (const { v, s, file: experiment } of runs) {
      const file = join(args.runsDir, `${experiment.name}.gowide.json`);
      writeFileSync(file, experimentText(experiment));
      console.log(`[${new Date().toISOString().slice(11, 19)}] ${v.name} on ${s.id}: ${file}`);
      try {
        const extraArgs = args.jobs === undefined ? [] : ['--jobs', String(args.jobs)];
        const { report, seconds } = await runJsonReport({ cli, file, cwd: ROOT, runsDir: args.runsDir, extraArgs, log: () => undefined });
        (results[v.name] ??= {})[s.id] = { variant: v.name, id: s.id, file: experiment, seeds: args.seeds, finishedAt: new Date().toISOString(), seconds, report, ranOn: ranOn() };
        writeFileSync(RESULTS, `${JSON.stringify(results, null, 1)}\n`);
        const p = report.paired?.['win-scratch'];
        console.log(`  done in ${(seconds / 60).toFixed(1)} min${p ? `: win - scratch ${(p.mean * 100).toFixed(2)} points, ${p.ahead} of ${p.seeds} seeds ahead` : ''}`);
      } catch (err) {
        failed.push(`${v.name} on ${s.id}`);
        console.error(`  ${v.name} on ${s.id} failed: ${err instanceof Error ? err.message : err}`);
      }
    }
  }
  writeGenerated({ 'outside-variants': variantsTable(results, outside) });
  console.log(`wrote the outside-variants part of ${EVIDENCE_DOC} from ${RESULTS}`);
  if (failed.length > 0) throw new Error(`${failed.length} run(s) failed and have no new result: ${failed.join(', ')}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
