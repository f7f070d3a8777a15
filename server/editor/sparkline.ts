// Unicode sparklines (▁▂▃▄▅▆▇█) for inlay hints and tree descriptions. Pure.

const BARS = '▁▂▃▄▅▆▇█';

/** Averages `values` into at most `buckets` equal slices, keeping the curve's shape at any length. */
export function downsample(values: readonly number[], buckets: number): number[] {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length <= buckets) return finite;
  const out: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * finite.length) / buckets);
    const to = Math.max(from + 1, Math.floor(((b + 1) * finite.length) / buckets));
    let sum = 0;
    for (let i = from; i < to; i++) sum += finite[i];
    out.push(sum / (to - from));
  }
  return out;
}

/**
 * One bar per bucket, scaled between the series' own minimum and maximum. Losses span decades, so a
 * positive series is drawn on a log scale (the same reading as the monitor's log-scale plots).
 */
export function sparkline(values: readonly number[], width = 8): string {
  const points = downsample(values, width);
  if (points.length === 0) return '';
  const log = points.every((v) => v > 0);
  const scaled = log ? points.map(Math.log10) : points;
  const low = Math.min(...scaled);
  const high = Math.max(...scaled);
  if (high - low < 1e-12) return BARS[3].repeat(points.length);
  return scaled.map((v) => BARS[Math.round(((v - low) / (high - low)) * (BARS.length - 1))]).join('');
}

/** A loss as a user reads it: 3 significant digits, exponent form when tiny or huge. */
export function formatLoss(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e4)) return value.toExponential(2);
  return Number(value.toPrecision(3)).toString();
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
