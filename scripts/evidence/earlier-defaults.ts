// A study's kept result under its earlier defaults beside its current one (docs/EVIDENCE.md): when a
// default changes, the run it replaced stays in docs/evidence/ and the study's section says, seed by
// seed, what the change did. Both runs use the same seeds (a seed fixes split, initialisation and
// batch order), so the two win arms pair seed by seed.
import { ARM_LABEL } from '../../server/cli/report';
import type { ArmName } from '../../server/protocol';
import { pairedDifference } from '../../server/runs/paired';
import { accuracyCell, signed, warmStartCell } from './report';
import type { StudyResult } from './run-study';

/** A default the study ran under before: which kept file holds that run, and what differed. */
export interface EarlierDefaults {
  /** File name in docs/evidence/. */
  json: string;
  /** What the earlier defaults did, e.g. "widened whole layers". */
  label: string;
}

const ARMS: ArmName[] = ['wide', 'scratch', 'win'];

function row(label: string, r: StudyResult): string {
  const a = r.report.arms;
  const cell = (arm: ArmName) => accuracyCell(a[arm]);
  const p = r.report.paired?.['win-scratch'];
  const pair = p ? `${signed(p.mean)} (${p.ahead} of ${p.seeds})` : '-';
  const wide = a.wide ? `${a.wide.params.toLocaleString('en-US')}; ${a.wide.seconds.toFixed(0)}` : '-';
  return `| ${label} | ${ARMS.map(cell).join(' | ')} | ${warmStartCell(r.report.diagnostics?.warmStartAccuracy)} | ${pair} | ${wide} | ${r.ranOn?.commit ?? '-'} |`;
}

/** The two runs side by side, then win (current) - win (earlier) paired by the seeds both ran. */
export function earlierDefaultsTable(current: StudyResult, earlier: StudyResult, earlierLabel: string): string {
  const widening = (r: StudyResult) => `widened ${r.experiment.widen.mode === 'inside' ? 'inside each block' : 'whole layers'}, factor ${r.experiment.widen.factor}`;
  const rows = [
    `| defaults | ${ARMS.map((arm) => ARM_LABEL[arm]).join(' | ')} | warm start (validation, mean) | win - scratch (seeds ahead) | wide net: params; seconds per seed | commit |`,
    `|---|${ARMS.map(() => '---|').join('')}---|---|---|---|`,
    row(`earlier: ${earlierLabel} (${widening(earlier)})`, earlier),
    row(`now (${widening(current)})`, current),
  ];
  const seeds = current.seeds.filter((s) => earlier.seeds.includes(s));
  const winOf = (r: StudyResult, seed: number) => r.report.arms.win?.accuracy.perSeed[r.seeds.indexOf(seed)];
  const differences = seeds.map((s) => [winOf(current, s), winOf(earlier, s)]).filter((d): d is [number, number] => d[0] !== undefined && d[1] !== undefined).map(([now, before]) => now - before);
  if (differences.length === 0) return rows.join('\n');
  const d = pairedDifference(differences);
  const interval = d.low === undefined || d.high === undefined ? '' : `, 95% interval ${signed(d.low)} to ${signed(d.high)}`;
  return [
    ...rows,
    '',
    `Win now - win under the earlier defaults, paired by seed (seeds ${seeds.join(', ')}): ${signed(d.mean)} points${interval}, ahead on ${d.ahead} of ${d.seeds}. Test accuracy in %, mean ± std over the seeds.`,
  ].join('\n');
}
