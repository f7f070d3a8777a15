// Every generated part of docs/EVIDENCE.md and README.md, computed from the results kept in
// docs/evidence/ alone: nothing is trained here. Each evidence script keeps its run, then rewrites every
// part (one part often reads several kept files: the full-data table reads the studies' results too),
// and test/unit/evidence-docs-current.test.ts checks that the committed documents still say what the
// kept results give.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { earlierDefaultsTable } from './earlier-defaults';
import { EVIDENCE_DIR, EVIDENCE_DOC, README, ROOT, writeGenerated } from './evidence-doc';
import { fullDataTable, type FullDataResults } from './full-data-report';
import { headlineSection, type HeadlineResults } from './headline-report';
import { HEADLINE_PAIR, headlineFiles } from './headline-settings';
import { readKept } from './keep-runs';
import { outsideDiagnosisTable } from './outside-diagnosis';
import { outsideRunsTable } from './outside-earlier';
import { outsideListTable, outsideResultsTable, type OutsideResults } from './outside-report';
import { headline, studySection } from './report';
import type { StudyResult } from './run-study';
import { screenTable, type Screen } from './screen-report';
import { STUDIES } from './studies';
import { sweepSection } from './sweep-section';
import { SWEEP_STUDIES, type SweepResult, type SweepStudy } from './sweep-study';
import { variantsTable, type VariantResults } from './variant-report';

/** Generated parts of one document, by marker name. */
export type Parts = Record<string, string>;

export const studyResultFile = (id: string) => join(EVIDENCE_DIR, `${id}.json`);
export const OUTSIDE_RESULTS = join(EVIDENCE_DIR, 'outside.json');
/** The list's run under the defaults before the last change, kept beside the current run. */
const OUTSIDE_EARLIER_RUN = { file: join(EVIDENCE_DIR, 'outside-wide-1x.json'), label: 'wide 1x' };
export const VARIANTS_RESULTS = join(EVIDENCE_DIR, 'variants.json');
/** Each kept run of the variants with the run of the list it pairs with (same defaults), so their
 *  scratch arms and the defaults' win pair seed by seed. Variants run after a change of defaults need
 *  the list's run under them; the run before is kept as the earlier part. */
const VARIANT_RUNS = {
  'outside-variants': { variants: VARIANTS_RESULTS, list: OUTSIDE_RESULTS, label: "the list's third run: wide net 2x the thin budget" },
  'outside-variants-earlier': { variants: join(EVIDENCE_DIR, 'variants-wide-1x.json'), list: OUTSIDE_EARLIER_RUN.file, label: "the list's second run: wide net 1x the thin budget" },
};
export const FULL_DATA_RESULTS = join(EVIDENCE_DIR, 'full-data.json');
export const HEADLINE_RESULTS = join(EVIDENCE_DIR, 'headline.json');
export const sweepResultFile = (study: SweepStudy, launcher: string) => join(EVIDENCE_DIR, `${study.id}.${launcher}.json`);

/** The study's kept results, each with its study as studies.ts words it now (it may be reworded after a run). */
export function keptStudyResults(): StudyResult[] {
  return STUDIES.flatMap((s) => {
    const kept = readKept<StudyResult>(studyResultFile(s.id));
    return kept ? [{ ...kept, study: s }] : [];
  });
}

/** The study's kept runs under its earlier defaults beside the current one, those that are kept. */
function earlierSection(r: StudyResult): string | undefined {
  const earlier = (r.study.earlier ?? []).flatMap((e) => {
    const result = readKept<StudyResult>(join(EVIDENCE_DIR, e.json));
    return result ? [{ result, label: e.label }] : [];
  });
  return earlierDefaultsTable(r, earlier);
}

/** generated:<study>-screen for every study with a kept screen. */
function screenParts(): Parts {
  return Object.fromEntries(
    STUDIES.flatMap((s) => {
      const screen = s.screen && readKept<Screen>(join(EVIDENCE_DIR, s.screen));
      return screen ? [[`${s.id}-screen`, screenTable(screen)]] : [];
    }),
  );
}

/** The study's headline, sections (with their plots) and screens, or nothing when no study is kept. */
function studyParts(results = keptStudyResults()): Parts {
  if (results.length === 0) return {};
  return { headline: headline(results), studies: results.map((r) => studySection(r, `evidence/${r.study.id}.png`, earlierSection(r))).join('\n\n'), ...screenParts() };
}

function readmeParts(results = keptStudyResults()): Parts {
  return results.length === 0 ? {} : { headline: headline(results) };
}

function outsideParts(): Parts {
  const results = readKept<OutsideResults>(OUTSIDE_RESULTS) ?? {};
  const earlier = readKept<OutsideResults>(OUTSIDE_EARLIER_RUN.file);
  return {
    'outside-list': outsideListTable(),
    'outside-results': outsideResultsTable(results),
    'outside-diagnosis': outsideDiagnosisTable(results),
    ...(earlier ? { 'outside-earlier': outsideRunsTable(results, earlier, OUTSIDE_EARLIER_RUN.label) } : {}),
  };
}

function variantsParts(): Parts {
  return Object.fromEntries(
    Object.entries(VARIANT_RUNS).flatMap(([part, run]) => {
      const results = readKept<VariantResults>(run.variants);
      return results ? [[part, variantsTable(results, readKept<OutsideResults>(run.list) ?? {}, run.label)]] : [];
    }),
  );
}

function fullDataParts(): Parts {
  const results = readKept<FullDataResults>(FULL_DATA_RESULTS) ?? {};
  const small = Object.fromEntries(STUDIES.map((s) => [s.id, readKept<StudyResult>(studyResultFile(s.id))]));
  return { 'full-data': fullDataTable(results, small) };
}

/** The headline pair's table, or nothing when it has not run. */
function headlinePairParts(): Parts {
  const results = readKept<HeadlineResults>(HEADLINE_RESULTS);
  if (!results) return {};
  const examplePath = join(ROOT, HEADLINE_PAIR.study.file);
  const example = JSON.parse(readFileSync(examplePath, 'utf8')) as Record<string, unknown>;
  const seeds = results.runs.thin?.seeds ?? HEADLINE_PAIR.seeds;
  return { 'headline-pair': headlineSection(results, headlineFiles(example, examplePath, seeds)) };
}

/** A sweep study's kept results (one per launcher), each with the study as sweep-study.ts defines it now. */
export function keptSweepResults(study: SweepStudy): SweepResult[] {
  if (!existsSync(EVIDENCE_DIR)) return [];
  const name = new RegExp(`^${study.id}\\.([a-z-]+)\\.json$`);
  return readdirSync(EVIDENCE_DIR)
    .filter((file) => name.test(file))
    .map((file) => ({ ...readKept<SweepResult>(join(EVIDENCE_DIR, file))!, study }));
}

/** generated:<sweep> for every sweep study with a kept result. */
function sweepParts(): Parts {
  return Object.fromEntries(
    SWEEP_STUDIES.flatMap((study) => {
      const results = keptSweepResults(study);
      return results.length > 0 ? [[study.id, sweepSection(results, `evidence/${study.id}.png`)]] : [];
    }),
  );
}

/** Every document with generated parts, and what the kept results say those parts are. */
export function keptDocuments(): Array<{ file: string; parts: Parts }> {
  return [
    { file: EVIDENCE_DOC, parts: { ...studyParts(), ...headlinePairParts(), ...sweepParts(), ...outsideParts(), ...variantsParts(), ...fullDataParts() } },
    { file: README, parts: readmeParts() },
  ];
}

/** Rewrites every generated part of every document from the kept results; the prose around them is kept. */
export function writeKeptDocuments(): void {
  const documents = keptDocuments();
  for (const { file, parts } of documents) writeGenerated(parts, file);
  console.log(`rewrote the generated parts of ${documents.map((d) => relative(ROOT, d.file)).join(' and ')} from the kept results in ${relative(ROOT, EVIDENCE_DIR)}/`);
}
