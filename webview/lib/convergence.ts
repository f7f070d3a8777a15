// The rule that labels an imitation block from its loss curve. Pure, so the monitor and the tests
// agree on one definition.
//
// The curve is cut into equal parts (ten once it has 20 points), each summed up by the median of its
// log losses; the noise of a part's median comes from how much single points scatter around the
// curve. So the single mini-batch losses the sidecar reports (a flat curve at 1% of its start swings
// by half its value) cannot decide the verdict alone. Then:
//   diverging  a NaN or infinite loss; or the last part's median is over DIVERGE_MULTIPLE times the
//              lowest earlier part's, the rise is beyond noise, and the curve gave back more than
//              GIVE_BACK of what it had fallen from its start;
//   flat       the last part differs from the one before by less than MAX_FLAT_CHANGE or by less
//              than the noise (NOISE_SIGMAS standard errors of the difference);
//   converged  flat, and below MAX_LOSS_OF_START of the first loss;
//   otherwise  running (done once the block's phase has finished), said as still falling, rising
//              again, or flat too high.
import type { BlockState } from '../../server/protocol';

export interface LossPoint {
  step: number;
  loss: number;
}

export interface Convergence {
  state: BlockState;
  /** The verdict in plain words, e.g. "converged: loss fell to 0.8% of its start and is flat". */
  rule: string;
  /** The numbers behind it and the thresholds (the monitor shows them on hover). */
  detail: string;
}

/** Parts the curve is cut into for the verdict (fewer while it has under 2 points per part). */
export const PARTS = 10;
/** The last part counts as flat when it moved by less than this share of the part before... */
export const MAX_FLAT_CHANGE = 0.01;
/** ...or by less than this many standard errors of the difference of the two medians (noise). */
export const NOISE_SIGMAS = 3;
/** Converged needs the loss below this share of its first value. */
export const MAX_LOSS_OF_START = 0.5;
/** Diverging needs the last part above this multiple of the lowest earlier part... */
export const DIVERGE_MULTIPLE = 2;
/** ...and the rise to undo more than this share of the fall from the start to that lowest part. */
export const GIVE_BACK = 0.1;
/** Points a verdict other than "no loss yet" or "NaN" needs: three parts of two. */
export const MIN_POINTS = 6;

/** Puts the k-th smallest value of a[lo..hi] at index k (quickselect: linear on average, where a sort of
 *  a 100k-point curve's parts took several times the old rule's whole verdict). */
function select(a: Float64Array, k: number, lo = 0, hi = a.length - 1): void {
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    // Median of three as the pivot, so sorted or flat stretches stay linear.
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) swap(a, i++, j--);
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

/** Median of the values (reorders them). */
function medianInPlace(a: Float64Array): number {
  const k = a.length >> 1;
  select(a, k);
  if (a.length % 2 === 1) return a[k];
  let below = a[0];
  for (let i = 1; i < k; i++) if (a[i] > below) below = a[i];
  return (below + a[k]) / 2;
}

/**
 * The spread of one point around the curve, in log units: mini-batch noise is a share of the loss,
 * so it is the same all along the curve in logs. From the median absolute deviation of successive
 * differences, which a smooth fall or rise does not inflate (differences of two points: sqrt(2) sigma).
 */
function pointSpread(logs: Float64Array): number {
  const differences = new Float64Array(logs.length - 1);
  for (let i = 1; i < logs.length; i++) differences[i - 1] = logs[i] - logs[i - 1];
  const centre = medianInPlace(differences);
  for (let i = 0; i < differences.length; i++) differences[i] = Math.abs(differences[i] - centre);
  return (1.4826 * medianInPlace(differences)) / Math.SQRT2;
}

/** Median log loss of each part, counted back from the end (the first part takes any points left over). */
function partLevels(logs: Float64Array): { levels: number[]; width: number } {
  const count = Math.min(PARTS, Math.floor(logs.length / 2));
  const width = Math.floor(logs.length / count);
  const levels: number[] = [];
  for (let k = 0; k < count; k++) {
    const end = logs.length - (count - 1 - k) * width;
    levels.push(medianInPlace(logs.slice(k === 0 ? 0 : end - width, end)));
  }
  return { levels, width };
}

/** "0.8%", "4.5%", "64%": one decimal below 10%. */
export function percent(x: number): string {
  const p = 100 * x;
  return `${Math.abs(p) < 10 ? p.toFixed(1) : p.toFixed(0)}%`;
}

const number = (x: number): string => x.toPrecision(3);

export function classifyBlock(points: readonly LossPoint[], finished: boolean): Convergence {
  if (points.length === 0) return { state: 'queued', rule: 'no imitation loss recorded yet', detail: 'no points' };
  const bad = points.find((p) => !Number.isFinite(p.loss));
  if (bad) return { state: 'diverging', rule: `diverging: the loss became ${bad.loss} at step ${bad.step}`, detail: `loss ${bad.loss} at step ${bad.step}` };
  const unfinished: BlockState = finished ? 'done' : 'running';
  if (points.length < MIN_POINTS) {
    return { state: unfinished, rule: `${finished ? 'finished' : 'running'}: too few points to judge (${points.length} of ${MIN_POINTS})`, detail: `${points.length} points` };
  }
  const start = points[0].loss;
  const logs = new Float64Array(points.length);
  for (let i = 0; i < points.length; i++) logs[i] = Math.log(Math.max(points[i].loss, 1e-30));
  const { levels, width } = partLevels(logs);
  const last = levels[levels.length - 1];
  const before = levels[levels.length - 2];
  const lowest = Math.min(...levels.slice(0, -1));
  // The standard error of a part's median (1.2533 sigma / sqrt(n)); two parts differ by noise alone
  // within NOISE_SIGMAS standard errors of their difference.
  const noise = (NOISE_SIGMAS * Math.SQRT2 * 1.2533 * pointSpread(logs)) / Math.sqrt(width);
  const ofStart = Math.exp(last) / start;
  const change = Math.exp(last - before) - 1;
  const detail =
    `start ${number(start)}; median of the last ${width} points ${number(Math.exp(last))} (${percent(ofStart)} of start), ` +
    `of the ${width} before ${number(Math.exp(before))} (change ${change >= 0 ? '+' : ''}${percent(change)}, noise ±${percent(Math.exp(noise) - 1)}), ` +
    `lowest earlier median ${number(Math.exp(lowest))}. ` +
    `Flat: change under ${percent(MAX_FLAT_CHANGE)} or within noise (${NOISE_SIGMAS} standard errors); ` +
    `converged: flat and under ${percent(MAX_LOSS_OF_START)} of start; ` +
    `diverging: above ${DIVERGE_MULTIPLE}x the lowest beyond noise, giving back over ${percent(GIVE_BACK)} of the fall.`;

  const multiple = Math.exp(last - lowest);
  const fall = start - Math.exp(lowest);
  const rise = Math.exp(last) - Math.exp(lowest);
  if (multiple > DIVERGE_MULTIPLE && last - lowest > noise && (fall <= 0 || rise > GIVE_BACK * fall)) {
    return { state: 'diverging', rule: `diverging: loss rose to ${multiple.toFixed(1)}x its lowest, back to ${percent(ofStart)} of its start`, detail };
  }
  const flat = Math.abs(last - before) < Math.max(Math.log1p(MAX_FLAT_CHANGE), noise);
  if (flat && ofStart < MAX_LOSS_OF_START) {
    return { state: 'converged', rule: `converged: loss fell to ${percent(ofStart)} of its start and is flat`, detail };
  }
  const prefix = finished ? 'finished ' : '';
  if (flat) return { state: unfinished, rule: `${prefix}flat at ${percent(ofStart)} of its start (converged needs under ${percent(MAX_LOSS_OF_START)})`, detail };
  if (change < 0) return { state: unfinished, rule: `${finished ? 'finished while ' : ''}still falling: loss at ${percent(ofStart)} of its start, ${percent(-change)} lower than just before`, detail };
  return { state: unfinished, rule: `${finished ? 'finished while ' : ''}rising again: loss at ${percent(ofStart)} of its start, ${multiple.toFixed(1)}x its lowest`, detail };
}
