// Per-block imitation-loss curves out of a run's metric records. Pure.
import type { MetricRecord } from '../protocol';

export interface BlockCurve {
  block: number;
  seed: number;
  /** [step, imitation loss] on the training batches, in step order. */
  points: [number, number][];
  last?: number;
}

/** The seed to show: the one imitation is training now (its latest record), else the first. */
export function currentImitationSeed(records: readonly MetricRecord[]): number | undefined {
  for (let i = records.length - 1; i >= 0; i--) if (records[i].phase === 'imitate') return records[i].seed;
  return undefined;
}

/** Curves per block for one seed (default: the current one), indexed by block. */
export function blockCurves(records: readonly MetricRecord[], seed = currentImitationSeed(records)): Map<number, BlockCurve> {
  const curves = new Map<number, BlockCurve>();
  if (seed === undefined) return curves;
  for (const r of records) {
    if (r.phase !== 'imitate' || r.seed !== seed || r.block === undefined || r.split === 'validation' || r.split === 'test') continue;
    const value = r.imitationLoss ?? r.loss;
    if (!Number.isFinite(value)) continue;
    let curve = curves.get(r.block);
    if (!curve) {
      curve = { block: r.block, seed, points: [] };
      curves.set(r.block, curve);
    }
    curve.points.push([r.step, value]);
    curve.last = value;
  }
  return curves;
}
