// Paired statistics of win against each baseline: a seed fixes the split, the initialisation and the
// batch order of every arm, so the per-seed difference is what varies with the method, not the seed.
import { BASELINE_NAMES, type ArmName, type PairedDifference, type PairName } from '../protocol';
import { meanAndStd } from './summary';

/** The 0.975 quantile of Student's t for 1..30 degrees of freedom (4 decimals). */
const T975 = [
  12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.306, 2.2622, 2.2281, 2.201, 2.1788, 2.1604, 2.1448, 2.1314,
  2.1199, 2.1098, 2.1009, 2.093, 2.086, 2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
];
const Z975 = 1.959964;

/** The two-sided 95% critical value of t with `df` degrees of freedom: tabulated up to 30, beyond that
 *  the Cornish-Fisher expansion around the normal quantile (within 1e-4 of the exact value there). */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new Error(`degrees of freedom must be a whole number >= 1, got ${df}`);
  if (df <= T975.length) return T975[df - 1];
  const z = Z975;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

/** Mean, 95% interval (none with one difference) and the count of positive ones. */
export function pairedDifference(differences: readonly number[]): PairedDifference {
  const seeds = differences.length;
  if (seeds === 0) throw new Error('a paired difference needs at least one seed');
  const { mean, std } = meanAndStd([...differences]);
  const ahead = differences.filter((d) => d > 0).length;
  if (seeds < 2) return { mean, ahead, seeds };
  const half = (tQuantile975(seeds - 1) * std) / Math.sqrt(seeds);
  return { mean, low: mean - half, high: mean + half, ahead, seeds };
}

/** Win minus each baseline, over the seeds where both have a test accuracy. */
export function pairedComparisons(outcomes: readonly { test: Partial<Record<ArmName, number>> }[]): Partial<Record<PairName, PairedDifference>> {
  const paired: Partial<Record<PairName, PairedDifference>> = {};
  for (const baseline of BASELINE_NAMES) {
    const differences = outcomes.flatMap((o) => (o.test.win !== undefined && o.test[baseline] !== undefined ? [o.test.win - o.test[baseline]] : []));
    if (differences.length > 0) paired[`win-${baseline}`] = pairedDifference(differences);
  }
  return paired;
}
