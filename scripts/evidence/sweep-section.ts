// The generated part of docs/EVIDENCE.md for a sweep study: one row per swept value (every arm's test
// accuracy, win - each baseline paired by seed, the wide net's size, FLOPs and seconds), and, when the sweep
// was kept from one process and from a launcher, their wall times side by side and whether they gave
// the same accuracies (same seeds: they should).
import { count, valueText, type SweepJsonReport } from '../../server/cli/sweep-report';
import { pointCost, sweepArms, type SweepResult } from './sweep-study';
import { BASELINE_NAMES, type BaselineName } from '../../server/protocol';
import { ARM_LABEL, formatSeconds } from '../../server/cli/report';
import { accuracyCell, armLabel, pct, signed } from './report';

/** The result the table and the picture show: the one-process run (what the launchers are compared
 *  with) when it is kept, else the first one kept. */
export function referenceResult(results: SweepResult[]): SweepResult | undefined {
  return results.find((r) => r.launcher === 'one-process') ?? results[0];
}


/** The baselines win is paired with somewhere in the sweep, in the protocol's order. */
const pairedBaselines = (r: SweepResult): BaselineName[] => BASELINE_NAMES.filter((b) => r.sweep.sweep.some((p) => p.paired?.[`win-${b}`] ?? (p.arms.win && p.arms[b])));

function winMinus(point: SweepJsonReport['sweep'][number], baseline: BaselineName): string {
  const paired = point.paired?.[`win-${baseline}`];
  if (paired) {
    const interval = paired.low !== undefined && paired.high !== undefined ? `, 95% ${signed(paired.low)} to ${signed(paired.high)}` : '';
    return `${signed(paired.mean)} (ahead on ${paired.ahead} of ${paired.seeds}${interval})`;
  }
  const { win, [baseline]: other } = point.arms;
  return win && other ? signed(win.accuracy.mean - other.accuracy.mean) : '-';
}

export function sweepPointsTable(r: SweepResult): string {
  const arms = sweepArms(r.sweep);
  const baselines = pairedBaselines(r);
  const rows = [
    `| ${r.study.field} | ${arms.map(armLabel).join(' | ')} | ${baselines.map((b) => `win - ${ARM_LABEL[b]} (points) | `).join('')}wide net params | wide FLOPs per example | seconds per seed: wide / win / all arms |`,
    `|---|${arms.map(() => '---|').join('')}${baselines.map(() => '---|').join('')}---|---|---|`,
  ];
  for (const point of r.sweep.sweep) {
    const cost = pointCost(point);
    const accuracy = arms.map((arm) => accuracyCell(point.arms[arm]));
    const seconds = [cost.wideSeconds, cost.winSeconds, cost.allSeconds].map((s) => formatSeconds(s)).join(' / ');
    rows.push(`| ${valueText(point.values[r.study.field])} | ${accuracy.join(' | ')} | ${baselines.map((b) => `${winMinus(point, b)} | `).join('')}${count(cost.wideParams)} | ${count(cost.wideFlops)} | ${seconds} |`);
  }
  return rows.join('\n');
}

/** Every test accuracy (point, arm, seed) two results disagree on; a string when they cannot be
 *  compared seed by seed. */
export function accuracyDifferences(a: SweepResult, b: SweepResult): { compared: number; differ: { at: string; a: number; b: number }[] } | string {
  if (a.seeds.join() !== b.seeds.join()) return `not comparable: seeds ${b.seeds.join(', ')} against ${a.seeds.join(', ')}`;
  let compared = 0;
  const differ: { at: string; a: number; b: number }[] = [];
  for (const pa of a.sweep.sweep) {
    const pb = b.sweep.sweep.find((p) => JSON.stringify(p.values) === JSON.stringify(pa.values));
    for (const [arm, armA] of Object.entries(pa.arms)) {
      const perSeedB = pb?.arms[arm as keyof typeof pb.arms]?.accuracy.perSeed ?? [];
      armA.accuracy.perSeed.forEach((accA, i) => {
        compared++;
        const accB = perSeedB[i];
        if (accB !== accA) differ.push({ at: `${valueText(pa.values[a.study.field])} ${arm} seed ${a.seeds[i]}`, a: accA, b: accB ?? NaN });
      });
    }
  }
  return { compared, differ };
}

function sameAccuracies(reference: SweepResult, other: SweepResult): string {
  const d = accuracyDifferences(reference, other);
  if (typeof d === 'string') return d;
  if (d.differ.length === 0) return `yes, all ${d.compared} (value x arm x seed)`;
  const worst = d.differ.reduce((w, x) => (Math.abs(x.a - x.b) > Math.abs(w.a - w.b) || Number.isNaN(x.b) ? x : w));
  return `**no**: ${d.differ.length} of ${d.compared} differ, the most at ${worst.at} (${pct(worst.a)} against ${Number.isNaN(worst.b) ? 'missing' : pct(worst.b)})`;
}

const loadText = (r: SweepResult) => [r.load.start, r.load.end].map((l) => l?.toFixed(1) ?? '?').join(' → ');
const ranOnText = (r: SweepResult) => `${r.ranOn.host}, ${r.ranOn.nproc} CPUs, commit ${r.ranOn.commit}`;
const minutes = (seconds: number) => `${(seconds / 60).toFixed(1)} min`;

/** The wall times of the one-process sweep and of each launcher's, when both are kept; '' otherwise. */
export function launcherComparison(results: SweepResult[]): string {
  const reference = results.find((r) => r.launcher === 'one-process');
  const others = results.filter((r) => r !== reference);
  if (!reference || others.length === 0) return '';
  const rows = ['| how it ran | flags | wall time | against one process | same test accuracies | load at start → end | ran on |', '|---|---|---|---|---|---|---|'];
  rows.push(`| one process | (none) | ${minutes(reference.wallSeconds)} | 1.00 | (the reference) | ${loadText(reference)} | ${ranOnText(reference)} |`);
  for (const r of others) {
    const ratio = r.wallSeconds / reference.wallSeconds;
    rows.push(`| ${r.launcher} | \`${r.launchArgs.join(' ')}\` | ${minutes(r.wallSeconds)} | ${ratio.toFixed(2)} (${(1 / ratio).toFixed(2)}x as fast) | ${sameAccuracies(reference, r)} | ${loadText(r)} | ${ranOnText(r)} |`);
  }
  return rows.join('\n');
}

export function sweepSection(results: SweepResult[], png: string): string {
  const r = referenceResult(results);
  if (!r) return '(not measured yet: run `npm run evidence:sweep`)';
  const overrides = Object.keys(r.study.overrides ?? {});
  const comparison = launcherComparison(results);
  return [
    `**${r.study.question}** Sweep of \`${r.study.example}\` over \`${r.study.field}\` ${r.study.values.join(', ')} (the example's settings${overrides.length ? `, its ${overrides.join(' and ')} set by the study,` : ''} plus a "sweep" key), seeds ${r.seeds.join(', ')}; test accuracy in %, mean ± std over seeds; the ${r.launcher} run.`,
    '',
    sweepPointsTable(r),
    '',
    'FLOPs: multiply-accumulates per example of the wide net; the thin arms train the same thin net at every point. Seconds per seed: the wide net; win\'s imitation and fine-tuning; every arm together.',
    '',
    `![${r.study.title}](${png})`,
    '',
    ...(comparison ? ['Wall time of the whole sweep, one process against the launchers (the same seeds, so the same accuracies are expected):', '', comparison, ''] : []),
    `Measured ${r.finishedAt.slice(0, 16).replace('T', ' ')} UTC on ${ranOnText(r)}; the sweep took ${minutes(r.wallSeconds)} (${r.launcher}; load average ${loadText(r)}).`,
  ].join('\n');
}
