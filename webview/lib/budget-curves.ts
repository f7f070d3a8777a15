// Accuracy against budget: each arm's validation accuracy after every epoch, against the epochs its
// own net has trained. The three-stage thin net's budget starts with imitation (the warm-start
// record says how many epochs it spent, and the thin net's accuracy then) and goes on with
// fine-tuning, so win, scratch and kd line up at equal thin-net epochs. The compare panel and the
// evidence study (scripts/evidence) draw these curves.
import type { ArmName, MetricRecord } from '../../server/protocol';
import { ARM_PHASE, ARMS } from './runs';

export interface CurvePoint {
  epochs: number;
  accuracy: number;
}

export type ArmCurves = Partial<Record<ArmName, CurvePoint[]>>;

/** One curve per run and seed. */
export const curveKey = (r: { runId: string; seed: number }): string => `${r.runId} seed ${r.seed}`;

const isWarmStart = (r: MetricRecord): boolean => r.phase === 'imitate' && r.block === undefined && r.split === 'validation';

/** Every run's and seed's validation accuracy against budget, by curveKey; win's points appear once
 *  its warm start (the end of imitation) is recorded. */
export function budgetCurves(records: readonly MetricRecord[]): Map<string, ArmCurves> {
  const imitationEpochs = new Map<string, number>();
  for (const r of records) if (isWarmStart(r) && r.epoch !== undefined) imitationEpochs.set(curveKey(r), r.epoch);
  const curves = new Map<string, ArmCurves>();
  const add = (key: string, arm: ArmName, point: CurvePoint) => {
    const byArm = curves.get(key) ?? {};
    curves.set(key, byArm);
    (byArm[arm] ??= []).push(point);
  };
  for (const r of records) {
    if (r.split !== 'validation' || r.accuracy === undefined || r.epoch === undefined) continue;
    const key = curveKey(r);
    const warmStart = imitationEpochs.get(key);
    if (isWarmStart(r)) add(key, 'win', { epochs: r.epoch, accuracy: r.accuracy });
    const arm = ARMS.find((a) => ARM_PHASE[a] === r.phase);
    if (!arm) continue;
    if (arm !== 'win') add(key, arm, { epochs: r.epoch, accuracy: r.accuracy });
    else if (warmStart !== undefined) add(key, arm, { epochs: warmStart + r.epoch, accuracy: r.accuracy });
  }
  for (const byArm of curves.values()) for (const points of Object.values(byArm)) points.sort((a, b) => a.epochs - b.epochs);
  return curves;
}

export interface BandPoint {
  epochs: number;
  mean: number;
  min: number;
  max: number;
}

const EPOCH_TOLERANCE = 1e-6;

/** Per arm, the mean, lowest and highest accuracy over the curves that have the arm, at the budgets
 *  every one of them reached. */
export function budgetBands(curves: readonly ArmCurves[]): Partial<Record<ArmName, BandPoint[]>> {
  const bands: Partial<Record<ArmName, BandPoint[]>> = {};
  for (const arm of ARMS) {
    const series = curves.map((c) => c[arm]).filter((points): points is CurvePoint[] => points !== undefined && points.length > 0);
    if (series.length === 0) continue;
    const at = (points: CurvePoint[], x: number) => points.find((p) => Math.abs(p.epochs - x) < EPOCH_TOLERANCE)?.accuracy;
    const points: BandPoint[] = [];
    for (const { epochs } of series[0]) {
      const values = series.map((s) => at(s, epochs));
      if (values.some((v) => v === undefined)) continue;
      const known = values as number[];
      points.push({ epochs, mean: known.reduce((a, b) => a + b, 0) / known.length, min: Math.min(...known), max: Math.max(...known) });
    }
    bands[arm] = points;
  }
  return bands;
}
