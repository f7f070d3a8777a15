// The generated full-data part of docs/EVIDENCE.md: per study, its run at full data
// (docs/evidence/full-data.json) beside its kept result at the study's own data size
// (docs/evidence/<id>.json, read, not re-run).
import type { JsonReport } from '../../server/cli/report';
import { splitCounts } from '../../server/data/split';
import type { Experiment } from '../../server/experiment/types';
import type { ArmName } from '../../server/protocol';
import { fullDataFile } from './full-data-settings';
import type { KeptRun } from './keep-runs';
import { ranWith } from './outside-report';
import { pct, signed } from './report';
import { ranOnText, type StudyResult } from './run-study';
import { STUDIES, type Study } from './studies';

/** The images a run used, as the data loader split them. */
export interface ImageCounts {
  train: number;
  validation: number;
  test: number;
}

/** One study's full-data run as kept in docs/evidence/full-data.json (keyed by study id). */
export interface FullDataResult extends KeptRun {
  images: ImageCounts;
}

export type FullDataResults = Record<string, FullDataResult>;

const count = (n: number) => n.toLocaleString('en-US');
const ARMS: ArmName[] = ['wide', 'scratch', 'win'];
const BLANK_ARMS = ARMS.map(() => '').join(' | ');

/** The arm's test accuracy; the wide net's with its epochs where the run recorded its experiment
 *  (its default budget has changed, so rows run at different times may differ in it). */
function armCell(report: JsonReport, arm: ArmName, experiment: Experiment | undefined): string {
  const a = report.arms[arm]?.accuracy;
  if (!a) return '-';
  const accuracy = a.perSeed.length > 1 ? `${pct(a.mean)} ± ${pct(a.std)}` : pct(a.mean);
  return arm === 'wide' && experiment ? `${accuracy} (${experiment.wide.epochs} epochs)` : accuracy;
}

const armCells = (report: JsonReport, experiment: Experiment | undefined) => ARMS.map((a) => armCell(report, a, experiment)).join(' | ');

/** Win - scratch of the given seeds (in `ranSeeds` order), or undefined when an arm lacks one. */
function differenceOn(report: JsonReport, ranSeeds: number[], seeds: number[]): number | undefined {
  const win = report.arms.win?.accuracy.perSeed;
  const scratch = report.arms.scratch?.accuracy.perSeed;
  if (!win || !scratch || win.length !== ranSeeds.length || scratch.length !== ranSeeds.length) return undefined;
  const at = seeds.map((s) => ranSeeds.indexOf(s));
  if (at.some((i) => i < 0)) return undefined;
  return at.reduce((sum, i) => sum + win[i] - scratch[i], 0) / at.length;
}

/** "+8.28 (3 of 3 ahead)", and the pair on `alsoOn` seeds when they are a strict subset of the run's. */
function pairedCell(report: JsonReport, ranSeeds: number[], alsoOn?: number[]): string {
  const p = report.paired?.['win-scratch'];
  if (!p) return 'no pair: an arm failed';
  const sub = alsoOn && alsoOn.length < ranSeeds.length ? differenceOn(report, ranSeeds, alsoOn) : undefined;
  return `${signed(p.mean)} (${p.ahead} of ${p.seeds} ahead${sub === undefined ? '' : `; seed${alsoOn!.length > 1 ? 's' : ''} ${alsoOn!.join(', ')}: ${signed(sub)}`})`;
}

const imagesCell = (i: ImageCounts) => `${count(i.train)} + ${count(i.validation)}`;

function smallRow(study: Study, small: StudyResult | undefined, fullSeeds: number[] | undefined): string {
  if (!small) return `| | study's size | no kept result in docs/evidence/${study.id}.json | | | ${BLANK_ARMS} | | |`;
  const d = small.experiment.data;
  const images = { ...splitCounts(d.trainLimit, d.validationSplit), test: d.testLimit };
  return `| | study's size | ${imagesCell(images)} | ${count(images.test)} | ${small.seeds.join(', ')} | ${armCells(small.report, small.experiment)} | ${pairedCell(small.report, small.seeds, fullSeeds)} | |`;
}

/** The table and where the full-data runs ran. Rows: every study (run at full data or not), full data
 *  then the study's own size. A result whose file is not what fullDataFile derives now is marked stale. */
export function fullDataTable(results: FullDataResults, small: Record<string, StudyResult | undefined>, studies: Study[] = STUDIES): string {
  const rows = [
    '| study | data | training + validation images | test images | seeds | wide | scratch | win | win - scratch, paired | minutes |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const current: FullDataResult[] = [];
  for (const study of studies) {
    const label = `${study.title} (\`${study.id}\`)`;
    const r = results[study.id];
    if (r && ranWith(fullDataFile(study, r.seeds).file, r)) {
      current.push(r);
      rows.push(`| ${label} | full | ${imagesCell(r.images)} | ${count(r.images.test)} | ${r.seeds.join(', ')} | ${armCells(r.report, r.experiment)} | ${pairedCell(r.report, r.seeds)} | ${(r.seconds / 60).toFixed(1)} |`);
      rows.push(smallRow(study, small[study.id], r.seeds));
    } else {
      rows.push(`| ${label} | full | ${r ? 'ran with other settings: re-run' : 'not run'} | | | ${BLANK_ARMS} | | |`);
      rows.push(smallRow(study, small[study.id], undefined));
    }
  }
  const machines = [...new Set(current.map((r) => ranOnText(r.ranOn)))];
  return [
    rows.join('\n'),
    '',
    'Test accuracy in %, the mean over the seeds (± std where there are several). Win - scratch in points, paired by seed ' +
      '(on how many seeds win is ahead); at the study\'s size also on the full-data run\'s seeds, for a like-for-like pair. ' +
      'The full-data runs have scratch as their only baseline; the study\'s size is its kept result, all arms.',
    `Full-data runs ran on ${machines.join('; ') || '-'}.`,
  ].join('\n');
}
