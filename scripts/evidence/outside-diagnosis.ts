// Why the method wins or loses outside the study: per setting, how far the wide teacher is ahead of the
// thin net from scratch, how much of the teacher the warm start kept, and how much of the thin budget
// imitation took (as the run resolved it; a run kept without its experiment is re-resolved with today's
// defaults), beside the result. Generated from docs/evidence/outside.json, ordered by the teacher's margin.
import { thinEpochBudget } from '../../server/experiment/budget';
import { outsideById } from './outside-settings';
import { resolveOutside, type OutsideResults } from './outside-report';
import { pct1 } from './report';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const signedPoints = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;

export function outsideDiagnosisTable(results: OutsideResults): string {
  const rows = [
    '| setting | teacher margin: wide - scratch (test) | wide net (validation) | warm start (validation) | imitation share of the thin budget | win - scratch |',
    '|---|---|---|---|---|---|',
  ];
  const diagnosed = Object.values(results)
    .filter((r) => r.report.arms.wide && r.report.arms.scratch && r.report.paired?.['win-scratch'] && r.report.diagnostics)
    .map((r) => ({ r, margin: r.report.arms.wide!.accuracy.mean - r.report.arms.scratch!.accuracy.mean, paired: r.report.paired!['win-scratch']! }))
    .sort((a, b) => b.margin - a.margin);
  for (const { r, margin, paired } of diagnosed) {
    const d = r.report.diagnostics!;
    const e = r.experiment ?? resolveOutside(outsideById([r.id])[0], r.seeds);
    const imitationEpochs = e.model.depth * e.imitate.epochsPerLayer;
    const budget = thinEpochBudget(e.model.depth, e.imitate, e.finetune);
    rows.push(
      `| \`${r.id}\` | ${signedPoints(margin)} | ${pct1(mean(d.wideValidationAccuracy))} | ${pct1(mean(d.warmStartAccuracy))} | ${((imitationEpochs / budget) * 100).toFixed(0)}% (${imitationEpochs} of ${budget} epochs) | ${signedPoints(paired.mean)} |`,
    );
  }
  return rows.join('\n');
}
