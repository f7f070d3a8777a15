// How swept values read wherever they are shown (CLI table, widening view, explorer):
// a point as "widen.factor 4", a grid as "widen.factor 2, 4, 8".

/** A swept value as written: strings bare, everything else as JSON. */
export const valueText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** "widen.factor 4" or "model.width 64, widen.factor 4": a point's values, in its fields' order. */
export function pointText(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([field, value]) => `${field} ${valueText(value)}`)
    .join(', ');
}

/** "widen.factor 2, 4, 8", or "model.width 32, 64 × widen.factor 2, 4" for a grid of several fields. */
export function gridText(grid: Record<string, readonly unknown[]>): string {
  return Object.entries(grid)
    .map(([field, values]) => `${field} ${values.map(valueText).join(', ')}`)
    .join(' × ');
}
