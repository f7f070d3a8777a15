// `npm run evidence:variants [-- --only ID,ID] [--variants NAME,NAME] [--seeds 1,2] [--runs-dir DIR] [--jobs N] [--report-only]`
// Runs variants of the method's defaults (variant-settings.ts) on the pre-registered settings outside the
// study (long, not part of CI): for each variant and setting, writes the setting's experiment file with
// the variant's fields into the runs folder, runs it with `gowide run FILE --json` from a copy of dist/,
// keeps its report in docs/evidence/variants.json (after each run, so an interrupted run keeps what
// finished) and rewrites the generated parts of the documents (kept-sections.ts); its table's defaults column
// comes from the run of the list they ran beside (VARIANT_RUNS, kept-sections.ts). --report-only only rewrites the documents.
import { join } from 'node:path';
import { ROOT } from './evidence-doc';
import { readKept, runEachAndKeep, throwIfFailed, type RunToKeep } from './keep-runs';
import { VARIANTS_RESULTS as RESULTS, writeKeptDocuments } from './kept-sections';
import { runScript } from './script-args';
import { readVariantArgs } from './variant-args';
import type { VariantResults } from './variant-report';
import { variantFile } from './variant-settings';


async function main(): Promise<void> {
  const args = readVariantArgs(process.argv.slice(2), join(ROOT, 'runs', 'evidence-variants'));
  const results = readKept<VariantResults>(RESULTS) ?? {};
  let failed: string[] = [];
  if (!args.reportOnly) {
    // Every file is derived and checked (budget kept) before anything runs.
    const runs = args.variants.flatMap((v) =>
      args.settings.map((s): RunToKeep => {
        const { file: experiment } = variantFile(s, v, args.seeds);
        return {
          label: `${v.name} on ${s.id}`,
          name: String(experiment.name),
          experiment,
          keep: (ran) => {
            (results[v.name] ??= {})[s.id] = { variant: v.name, id: s.id, file: experiment, seeds: args.seeds, ...ran };
          },
        };
      }),
    );
    failed = await runEachAndKeep({ runs, runsDir: args.runsDir, jobs: args.jobs, results, resultsFile: RESULTS });
  }
  writeKeptDocuments();
  throwIfFailed(failed);
}

runScript(main);
