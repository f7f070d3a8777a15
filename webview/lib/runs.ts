// Turning a run's metric records into what the panels draw: the monitor's cards, per-arm training
// curves and per-seed test accuracies (the imitation curves: imitation-curves.ts).
import { ARM_NAMES, type ArmName, type MetricRecord, type PairedDifference, type PairName, type PhaseName, type RunSummary } from '../../server/protocol';
import { pairedComparisons } from '../../server/runs/paired';
import type { LossPoint } from './convergence';

export const ARMS: readonly ArmName[] = ARM_NAMES;

/** The phase whose records make an arm's curve and final test accuracy (win = after fine-tuning). */
export const ARM_PHASE: Record<ArmName, PhaseName> = {
  wide: 'wide',
  scratch: 'scratch',
  kd: 'kd',
  win: 'finetune',
  'scratch-steps': 'scratch-steps',
  'kd-steps': 'kd-steps',
  'scratch-compute': 'scratch-compute',
};

export const isTrainingRecord = (r: MetricRecord): boolean => r.split !== 'validation' && r.split !== 'test' && r.step >= 0;

/** The monitor's cards: one per imitated block, where a group of blocks that imitated together (the
 *  run lists it with `from`) is one card under its last block, the one whose output was matched. */
export function imitationCards(run: RunSummary | undefined, blocksWithRecords: number): { index: number; from?: number }[] {
  const listed = run?.stages.find((s) => s.stage === 'imitate')?.blocks ?? [];
  const groups = new Map<number, number>();
  for (const b of listed) if (b.from !== undefined && b.from < b.index) groups.set(b.index, b.from);
  const covered = new Set<number>();
  for (const [index, from] of groups) for (let i = from; i < index; i++) covered.add(i);
  const cards: { index: number; from?: number }[] = [];
  const count = Math.max(blocksWithRecords, ...listed.map((b) => b.index + 1));
  for (let index = 0; index < count; index++) if (!covered.has(index)) cards.push({ index, from: groups.get(index) });
  return cards;
}

/** Training loss of each arm per seed, in step order. */
export function armCurves(records: readonly MetricRecord[]): Map<ArmName, Map<string, LossPoint[]>> {
  const curves = new Map<ArmName, Map<string, LossPoint[]>>();
  for (const arm of ARMS) curves.set(arm, new Map());
  for (const r of records) {
    if (!isTrainingRecord(r)) continue;
    const arm = ARMS.find((a) => ARM_PHASE[a] === r.phase);
    if (!arm) continue;
    const key = `${r.runId} seed ${r.seed}`;
    const bySeed = curves.get(arm)!;
    const points = bySeed.get(key) ?? [];
    bySeed.set(key, points);
    points.push({ step: r.step, loss: r.loss });
  }
  return curves;
}

/**
 * Training loss of each phase on one time line, the optimisation steps of the whole run: each stretch
 * of records of one seed, phase and block comes after the stretches recorded before it (its last
 * recorded step is its last step).
 */
export function lossTimeline(records: readonly MetricRecord[]): Map<PhaseName, LossPoint[]> {
  const timeline = new Map<PhaseName, LossPoint[]>();
  let offset = 0;
  let stretch: string | undefined;
  let lastStep = 0;
  for (const r of records.filter(isTrainingRecord).sort((a, b) => a.seq - b.seq)) {
    const key = `${r.seed} ${r.phase} ${r.block ?? ''}`;
    if (key !== stretch) {
      if (stretch !== undefined) offset += lastStep + 1;
      stretch = key;
    }
    lastStep = r.step;
    const points = timeline.get(r.phase) ?? [];
    timeline.set(r.phase, points);
    points.push({ step: offset + r.step, loss: r.loss });
  }
  return timeline;
}

export interface ArmAccuracy {
  arm: ArmName;
  runId: string;
  seed: number;
  accuracy: number;
}

/** Final test accuracy of every arm, run and seed (the last test record wins). */
export function testAccuracies(records: readonly MetricRecord[]): ArmAccuracy[] {
  const latest = new Map<string, ArmAccuracy>();
  for (const r of records) {
    if (r.split !== 'test' || r.accuracy === undefined) continue;
    const arm = ARMS.find((a) => ARM_PHASE[a] === r.phase);
    if (!arm) continue;
    latest.set(`${arm}\u0000${r.runId}\u0000${r.seed}`, { arm, runId: r.runId, seed: r.seed, accuracy: r.accuracy });
  }
  return [...latest.values()].sort((a, b) => ARMS.indexOf(a.arm) - ARMS.indexOf(b.arm) || a.runId.localeCompare(b.runId) || a.seed - b.seed);
}

/** Win minus each baseline, paired by run and seed (a seed fixes split, initialisation and batch
 *  order of every arm of a run). */
export function pairedOf(accuracies: readonly ArmAccuracy[]): Partial<Record<PairName, PairedDifference>> {
  const bySeed = new Map<string, { test: Partial<Record<ArmName, number>> }>();
  for (const a of accuracies) {
    const key = `${a.runId}\u0000${a.seed}`;
    const outcome = bySeed.get(key) ?? { test: {} };
    outcome.test[a.arm] = a.accuracy;
    bySeed.set(key, outcome);
  }
  return pairedComparisons([...bySeed.values()]);
}

/**
 * uPlot wants one shared x array: the union of every series' x values, each series holding null
 * where it has no point (drawn as a gap).
 */
export function alignSeries(series: readonly (readonly LossPoint[])[]): [number[], ...(number | null)[][]] {
  const xs = [...new Set(series.flatMap((points) => points.map((p) => p.step)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = series.map((points) => {
    const column: (number | null)[] = new Array(xs.length).fill(null);
    for (const p of points) column[index.get(p.step)!] = Number.isFinite(p.loss) && p.loss > 0 ? p.loss : null;
    return column;
  });
  return [xs, ...columns];
}
