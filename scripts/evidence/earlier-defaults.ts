// A study's kept result under its earlier defaults beside its current one (docs/EVIDENCE.md): when a
// default changes, the run it replaced stays in docs/evidence/ and the study's section says, seed by
// seed, what the change did. Both runs use the same seeds (a seed fixes split, initialisation and
// batch order), so the two win arms pair seed by seed.
import { ARM_LABEL } from '../../server/cli/report';
import type { ArmName } from '../../server/protocol';
import { pairedDifference } from '../../server/runs/paired';
import { accuracyCell, signed, warmStartCell, winChangeBySeed } from './report';
import type { StudyResult } from './run-study';

/** A default the study ran under before: which kept file holds that run, and when it was the default. */
export interface EarlierDefaults {
  /** File name in docs/evidence/. */
  json: string;
  /** When those were the defaults, e.g. "until session 10". */
  label: string;
}

const ARMS: ArmName[] = ['wide', 'scratch', 'win'];

/** A kept run under earlier defaults, read from docs/evidence/, with what the study says of it. */
export interface EarlierRun {
  result: StudyResult;
  label: string;
}

/** The defaults that set the study's teacher: how the net was widened and how long the wide net trained. */
const teacherSettings = (r: StudyResult) =>
  `widened ${r.experiment.widen.mode === 'inside' ? 'inside each block' : 'whole layers'}, factor ${r.experiment.widen.factor}; wide net ${r.experiment.wide.epochs} epochs`;

function row(label: string, r: StudyResult): string {
  const a = r.report.arms;
  const cell = (arm: ArmName) => accuracyCell(a[arm]);
  const p = r.report.paired?.['win-scratch'];
  const pair = p ? `${signed(p.mean)} (${p.ahead} of ${p.seeds})` : '-';
  const wide = a.wide ? `${a.wide.params.toLocaleString('en-US')}; ${a.wide.seconds.toFixed(0)}` : '-';
  return `| ${label} (${teacherSettings(r)}) | ${ARMS.map(cell).join(' | ')} | ${warmStartCell(r.report.diagnostics?.warmStartAccuracy)} | ${pair} | ${wide} | ${r.ranOn?.commit ?? '-'} |`;
}

/** Win now - win under one earlier run, paired by the seeds both ran; undefined when they share none. */
function pairedLine(current: StudyResult, earlier: EarlierRun): string | undefined {
  const { seeds, differences } = winChangeBySeed(current, earlier.result);
  if (differences.length === 0) return undefined;
  const d = pairedDifference(differences);
  const interval = d.low === undefined || d.high === undefined ? '' : `, 95% interval ${signed(d.low)} to ${signed(d.high)}`;
  return `- Win now - win ${earlier.label}, paired by seed (seeds ${seeds.join(', ')}): ${signed(d.mean)} points${interval}, ahead on ${d.ahead} of ${d.seeds}.`;
}

/** The earlier runs and the current one side by side (oldest first), then win (current) - win (each
 *  earlier run) paired by the seeds both ran; undefined when no kept run is earlier than the current. */
export function earlierDefaultsTable(current: StudyResult, kept: EarlierRun[]): string | undefined {
  // A study's current run copied aside before its re-run is not an earlier run yet.
  const earlier = kept.filter((e) => e.result.finishedAt !== current.finishedAt);
  if (earlier.length === 0) return undefined;
  const rows = [
    `| defaults | ${ARMS.map((arm) => ARM_LABEL[arm]).join(' | ')} | warm start (validation, mean) | win - scratch (seeds ahead) | wide net: params; seconds per seed | commit |`,
    `|---|${ARMS.map(() => '---|').join('')}---|---|---|---|`,
    ...earlier.map((e) => row(`earlier: ${e.label}`, e.result)),
    row('now', current),
  ];
  const paired = earlier.flatMap((e) => pairedLine(current, e) ?? []);
  if (paired.length === 0) return rows.join('\n');
  return [...rows, '', 'Test accuracy in %, mean ± std over the seeds.', '', ...paired].join('\n');
}
