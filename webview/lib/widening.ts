// Parsing and checking a widening factor the user typed, and the cost figure of the table.

export type FactorInput = { ok: true; factor: number } | { ok: false; reason: string };

/** Largest factor accepted: beyond it the wide net is rarely trainable here, and typos (40 for 4) are likely. */
export const MAX_FACTOR = 64;

export function parseFactor(text: string): FactorInput {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, reason: 'enter a number (1 or more)' };
  const factor = Number(trimmed);
  if (!Number.isFinite(factor)) return { ok: false, reason: `"${trimmed}" is not a number` };
  if (factor < 1) return { ok: false, reason: `factor ${factor} is below 1: the wide net must be at least as wide as the thin one` };
  if (factor > MAX_FACTOR) return { ok: false, reason: `factor ${factor} is above ${MAX_FACTOR}` };
  return { ok: true, factor };
}

export type FactorListInput = { ok: true; factors: number[] } | { ok: false; reason: string };

/** "2, 4, 8" (commas or spaces) -> the factors of a sweep, each checked as parseFactor checks one. */
export function parseFactorList(text: string): FactorListInput {
  const parts = text.split(/[\s,]+/).filter((s) => s !== '');
  if (parts.length === 0) return { ok: false, reason: 'enter the factors to try, e.g. 2, 4, 8' };
  const factors: number[] = [];
  for (const part of parts) {
    const parsed = parseFactor(part);
    if (!parsed.ok) return parsed;
    if (factors.includes(parsed.factor)) return { ok: false, reason: `factor ${parsed.factor} is listed twice` };
    factors.push(parsed.factor);
  }
  return { ok: true, factors };
}

export function wideWidth(thinWidth: number, factor: number): number {
  return Math.round(thinWidth * factor);
}

/** Training time of the wide net relative to the thin one, taken as the ratio of FLOPs per example. */
export function relativeCost(thinFlops: number, wideFlops: number): number {
  return thinFlops > 0 ? wideFlops / thinFlops : NaN;
}

export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}
