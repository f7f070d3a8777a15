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

/**
 * converged: relative drop over the last 20% of points < 1% and last loss < 50% of the first;
 * diverging: a NaN/Infinity loss, or last > 2x the lowest; otherwise running (or done when the
 * block's phase has finished without meeting the converged rule).
 */
export function classifyBlock(points: readonly LossPoint[], finished: boolean): Convergence {
  if (points.length === 0) return { state: 'queued', rule: 'no imitation loss recorded yet' };
  const bad = points.find((p) => !Number.isFinite(p.loss));
  if (bad) return { state: 'diverging', rule: `loss is ${bad.loss} at step ${bad.step}` };
  const first = points[0].loss;
  const last = points[points.length - 1].loss;
  const lowest = Math.min(...points.map((p) => p.loss));
  if (points.length >= 3 && lowest > 0 && last > DIVERGE_MULTIPLE * lowest) {
    return { state: 'diverging', rule: `last loss ${last.toPrecision(3)} > ${DIVERGE_MULTIPLE}x the lowest ${lowest.toPrecision(3)}` };
  }
  const unfinished: BlockState = finished ? 'done' : 'running';
  if (points.length < MIN_POINTS) return { state: unfinished, rule: `only ${points.length} points (need ${MIN_POINTS} to judge)` };
  const tailLength = Math.max(2, Math.ceil(points.length * TAIL_FRACTION));
  const tailStart = points[points.length - tailLength].loss;
  const tailDrop = tailStart > 0 ? (tailStart - last) / tailStart : 0;
  const ofStart = first > 0 ? last / first : 1;
  const facts = `drop over the last ${percent(TAIL_FRACTION)} of steps ${percent(tailDrop)}, loss ${percent(ofStart)} of start`;
  if (tailDrop < MAX_TAIL_DROP && ofStart < MAX_LOSS_OF_START) {
    return { state: 'converged', rule: `${facts} (< ${percent(MAX_TAIL_DROP)} and < ${percent(MAX_LOSS_OF_START)})` };
  }
  const why = tailDrop >= MAX_TAIL_DROP ? 'still dropping' : `above ${percent(MAX_LOSS_OF_START)} of start`;
  return { state: unfinished, rule: `${facts}: ${why}` };
}
