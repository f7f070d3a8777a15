// The rule that labels an imitation block from its loss curve. Pure, so the monitor, the tree and
// the tests agree on one definition.
import type { BlockState } from '../../server/protocol';

export interface LossPoint {
  step: number;
  loss: number;
}

export interface Convergence {
  state: BlockState;
  /** The rule that decided the state, in words a user can check against the plot. */
  rule: string;
}

/** Share of the curve (by point count) whose relative drop decides convergence. */
export const TAIL_FRACTION = 0.2;
/** Converged when the tail drops by less than this share ... */
export const MAX_TAIL_DROP = 0.01;
/** ... and the loss is below this share of its start. */
export const MAX_LOSS_OF_START = 0.5;
/** Diverging when the last loss is above this multiple of the lowest. */
export const DIVERGE_MULTIPLE = 2;
const MIN_POINTS = 5;

const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** Noise allowance: a tail drop within this many standard errors of the difference of means is noise. */
export const NOISE_SIGMAS = 3;

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function variance(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1);
}

/** Lowest mean over `width` consecutive points, with a running sum (a 100k-point curve has windows of 10k). */
function lowestMovingMean(losses: readonly number[], width: number): number {
  if (losses.length < width) return Infinity;
  let sum = 0;
  for (let i = 0; i < width; i++) sum += losses[i];
  let lowest = sum;
  for (let i = width; i < losses.length; i++) {
    sum += losses[i] - losses[i - width];
    lowest = Math.min(lowest, sum);
  }
  return lowest / width;
}

/**
 * The tail is the last 20% of points, split into two halves whose means are compared, so one noisy
 * mini-batch loss cannot decide the verdict. converged: the tail's drop is under 1% (or within 3
 * standard errors, i.e. noise) and the recent mean is under 50% of the first loss; diverging: a
 * NaN/Infinity loss, or the recent mean above 2x the lowest mean of as many consecutive points;
 * otherwise running (or done when the block's phase has finished without meeting the converged rule).
 */
export function classifyBlock(points: readonly LossPoint[], finished: boolean): Convergence {
  if (points.length === 0) return { state: 'queued', rule: 'no imitation loss recorded yet' };
  const bad = points.find((p) => !Number.isFinite(p.loss));
  if (bad) return { state: 'diverging', rule: `loss is ${bad.loss} at step ${bad.step}` };
  const losses = points.map((p) => p.loss);
  const first = losses[0];
  const half = Math.max(1, Math.floor(Math.max(2, Math.ceil(losses.length * TAIL_FRACTION)) / 2));
  const recentPoints = losses.slice(-half);
  const recent = mean(recentPoints);
  const lowest = lowestMovingMean(losses, half);
  if (losses.length >= 3 && lowest > 0 && recent > DIVERGE_MULTIPLE * lowest) {
    return { state: 'diverging', rule: `last loss ${recent.toPrecision(3)} > ${DIVERGE_MULTIPLE}x the lowest ${lowest.toPrecision(3)}` };
  }
  const unfinished: BlockState = finished ? 'done' : 'running';
  if (losses.length < MIN_POINTS) return { state: unfinished, rule: `only ${losses.length} points (need ${MIN_POINTS} to judge)` };
  const beforePoints = losses.slice(-2 * half, -half);
  const before = mean(beforePoints);
  const tailDrop = before > 0 ? (before - recent) / before : 0;
  const noise = before > 0 ? (NOISE_SIGMAS * Math.sqrt(variance(beforePoints) / half + variance(recentPoints) / half)) / before : 0;
  const ofStart = first > 0 ? recent / first : 1;
  const noiseText = noise > 0 ? ` (noise ±${percent(noise)})` : '';
  const facts = `drop over the last ${percent(TAIL_FRACTION)} of steps ${percent(tailDrop)}${noiseText}, loss ${percent(ofStart)} of start`;
  const flat = tailDrop < Math.max(MAX_TAIL_DROP, noise);
  if (flat && ofStart < MAX_LOSS_OF_START) {
    return { state: 'converged', rule: `${facts} (< ${percent(MAX_TAIL_DROP)} or noise, and < ${percent(MAX_LOSS_OF_START)})` };
  }
  const why = !flat ? 'still dropping' : `above ${percent(MAX_LOSS_OF_START)} of start`;
  return { state: unfinished, rule: `${facts}: ${why}` };
}
