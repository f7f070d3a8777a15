// The list's run under the current defaults beside its run under earlier ones (docs/EVIDENCE.md):
// per setting, the teacher and win - scratch in each run, and win now - win then paired by seed (both
// runs use the list's seeds, and a seed fixes split, initialisation and batch order).
import { pairedDifference } from '../../server/runs/paired';
import { countLine, ranAsListed, signed, type OutsideResult, type OutsideResults } from './outside-report';
import { OUTSIDE_SETTINGS, type OutsideSetting } from './outside-settings';
import { pct, winChangeBySeed } from './report';

/** "+0.53 (1 of 2)": the run's paired win - scratch and its seeds ahead. */
function winMinusScratch(r: OutsideResult): string {
  const p = r.report.paired?.['win-scratch'];
  return p ? `${signed(p.mean)} (${p.ahead} of ${p.seeds})` : '-';
}

/** Win now - win then over the seeds both runs have, or '-' when they share none. */
function winChange(now: OutsideResult, then: OutsideResult): string {
  const { differences } = winChangeBySeed(now, then);
  if (differences.length === 0) return '-';
  const d = pairedDifference(differences);
  return `${signed(d.mean)} (${d.ahead} of ${d.seeds})`;
}

const wideCell = (r: OutsideResult) => (r.report.arms.wide ? pct(r.report.arms.wide.accuracy.mean) : '-');

/** Settings that ran as listed in both runs, side by side, with each run's count against the goal. */
export function outsideRunsTable(now: OutsideResults, then: OutsideResults, thenLabel: string, settings: OutsideSetting[] = OUTSIDE_SETTINGS): string {
  const rows = [
    `| setting | wide: ${thenLabel} | wide: now | win - scratch: ${thenLabel} (seeds ahead) | win - scratch: now (seeds ahead) | win now - win ${thenLabel}, paired (seeds ahead) |`,
    '|---|---|---|---|---|---|',
  ];
  const both = settings.flatMap((s) => {
    const [a, b] = [now[s.id], then[s.id]];
    return a && b && ranAsListed(s, a) && ranAsListed(s, b) ? [{ s, now: a, then: b }] : [];
  });
  for (const r of both) {
    rows.push(`| \`${r.s.id}\` | ${wideCell(r.then)} | ${wideCell(r.now)} | ${winMinusScratch(r.then)} | ${winMinusScratch(r.now)} | ${winChange(r.now, r.then)} |`);
  }
  const counts = [
    `${thenLabel}: ${countLine(both.map((r) => r.then), both.length)}`,
    `now: ${countLine(both.map((r) => r.now), both.length)}`,
  ];
  return [...rows, '', `Test accuracy in %, mean over the seeds; differences in points. The ${both.length} settings that ran as listed in both runs:`, '', ...counts.map((c) => `- ${c}`)].join('\n');
}
