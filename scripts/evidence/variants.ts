// `npm run evidence:variants [-- --only ID,ID] [--variants NAME,NAME] [--seeds 1,2] [--runs-dir DIR] [--jobs N] [--report-only]`
// Runs variants of the method's defaults (variant-settings.ts) on the pre-registered settings outside the
// study (long, not part of CI): for each variant and setting, writes the setting's experiment file with
// the variant's fields into the runs folder, runs it with `gowide run FILE --json` from a copy of dist/,
// keeps its report in docs/evidence/variants.json (after each run, so an interrupted run keeps what
// finished) and rewrites the generated:outside-variants part of docs/EVIDENCE.md, whose defaults column
// comes from the run of the list they ran beside (PAIRED_LIST_RUN). --report-only only rewrites the table.
import { join } from 'node:path';
import { EVIDENCE_DIR, EVIDENCE_DOC, ROOT, writeGenerated } from './evidence-doc';
import type { OutsideResults } from './outside-report';
import { readKept, runEachAndKeep, throwIfFailed, type RunToKeep } from './keep-runs';
import { readVariantArgs } from './variant-args';
import { variantsTable, type VariantResults } from './variant-report';
import { variantFile } from './variant-settings';

const RESULTS = join(EVIDENCE_DIR, 'variants.json');
/** The run of the list the variants ran beside (same commit, same defaults), so their scratch arms
 *  and the defaults' win pair with theirs seed by seed: the list's second run, before the wide net's
 *  default budget doubled. Variants run after a change of defaults need the list's run under them. */
const PAIRED_LIST_RUN = { file: join(EVIDENCE_DIR, 'outside-wide-1x.json'), label: "the list's second run: wide net 1x the thin budget" };

async function main(): Promise<void> {
  const args = readVariantArgs(process.argv.slice(2), join(ROOT, 'runs', 'evidence-variants'));
  const results = readKept<VariantResults>(RESULTS) ?? {};
  const outside = readKept<OutsideResults>(PAIRED_LIST_RUN.file) ?? {};
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
  writeGenerated({ 'outside-variants': variantsTable(results, outside, PAIRED_LIST_RUN.label) });
  console.log(`wrote the outside-variants part of ${EVIDENCE_DOC} from ${RESULTS}`);
  throwIfFailed(failed);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
