// Sweeps: `"sweep": {"widen.factor": [2, 4, 8]}` in an experiment file names a grid over its own
// fields. Each value is checked by resolving the experiment with it written in its field, so a bad value
// gets resolve's own message, placed at the sweep entry (sweep["widen.factor"][2]).
import schema from './gowide.schema.json';
import type { ExperimentProblem } from '../protocol';
import { isPlainObject, typeName } from './fields';
import type { Experiment } from './types';

/** The fields a sweep may vary and the most points a grid may have: the schema's sweep entry. */
export const SWEEP_FIELDS: readonly string[] = schema.properties.sweep.propertyNames.enum;
export const MAX_SWEEP_POINTS: number = schema.properties.sweep.maxPoints;

/** The grid as the file gives it: field path -> values, in the file's key order. */
export type SweepGrid = Record<string, unknown[]>;

export interface SweepPoint {
  /** One value per swept field, e.g. {"widen.factor": 2}. */
  values: Record<string, unknown>;
  experiment: Experiment;
}

type Resolve = (raw: unknown) => { experiment?: Experiment; problems: ExperimentProblem[] };

/** `sweep["widen.factor"][2]`: the field path of a sweep entry (locateField reads it). */
export const sweepEntryField = (field: string, index?: number) => `sweep[${JSON.stringify(field)}]${index === undefined ? '' : `[${index}]`}`;

/** `raw` without its sweep and with `values` written into their dotted fields. */
export function withSweepValues(raw: Record<string, unknown>, values: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(raw);
  delete copy.sweep;
  for (const [field, value] of Object.entries(values)) {
    const keys = field.split('.');
    let node = copy;
    for (const key of keys.slice(0, -1)) {
      if (!isPlainObject(node[key])) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = value;
  }
  return copy;
}

/** Every combination of the grid's values, the first field varying slowest. */
export function gridPoints(grid: SweepGrid): Record<string, unknown>[] {
  return Object.entries(grid).reduce<Record<string, unknown>[]>(
    (points, [field, values]) => points.flatMap((point) => values.map((value) => ({ ...point, [field]: value }))),
    [{}],
  );
}

const problemKey = (p: ExperimentProblem) => `${p.severity}\u0000${p.field}\u0000${p.message}`;

/**
 * Checks `raw.sweep` and resolves every point of its grid. Problems are the sweep's own (shape, unknown
 * fields, repeated values, grid size) and those a value brings that the file without the sweep lacks.
 */
/** The sweep's own shape: an object of field paths a sweep can vary to non-empty lists of values. */
export function sweepShapeProblems(sweep: unknown): ExperimentProblem[] {
  const problems: ExperimentProblem[] = [];
  const error = (field: string, message: string, fix: string) => problems.push({ field, message, fix, severity: 'error' });
  if (!isPlainObject(sweep) || Object.keys(sweep).length === 0) {
    error('sweep', `sweep must be an object of field paths to lists of values, not ${isPlainObject(sweep) ? 'an empty object' : typeName(sweep)}`, 'write e.g. "sweep": {"widen.factor": [2, 4, 8]}, or remove sweep');
    return problems;
  }
  for (const [field, values] of Object.entries(sweep)) {
    if (!SWEEP_FIELDS.includes(field)) {
      error(sweepEntryField(field), `"${field}" is not a field a sweep can vary`, `use one of ${SWEEP_FIELDS.join(', ')}`);
    } else if (!Array.isArray(values) || values.length === 0) {
      error(sweepEntryField(field), `sweep["${field}"] must be a non-empty list of values, not ${Array.isArray(values) ? 'an empty list' : typeName(values)}`, `write e.g. "${field}": [the values to try]`);
    }
  }
  return problems;
}

export function resolveSweep(raw: Record<string, unknown>, base: ExperimentProblem[], resolve: Resolve): { grid?: SweepGrid; points?: SweepPoint[]; problems: ExperimentProblem[] } {
  const shapeProblems = sweepShapeProblems(raw.sweep);
  if (shapeProblems.length > 0) return { problems: shapeProblems };
  const problems: ExperimentProblem[] = [];
  const error = (field: string, message: string, fix: string) => problems.push({ field, message, fix, severity: 'error' });
  const known = new Set(base.map(problemKey));
  const grid: SweepGrid = {};
  for (const [field, values] of Object.entries(raw.sweep as Record<string, unknown[]>)) {
    const seen = new Set<string>();
    values.forEach((value, i) => {
      const at = sweepEntryField(field, i);
      const text = JSON.stringify(value);
      if (seen.has(text)) return error(at, `${field} ${text} is listed twice`, 'list each value once');
      seen.add(text);
      for (const p of resolve(withSweepValues(raw, { [field]: value })).problems) {
        if (known.has(problemKey(p))) continue;
        const message = p.field === field || p.field.startsWith(`${field}[`) ? p.message : `${p.message} (${p.field}, with ${field} = ${text})`;
        problems.push({ ...p, field: at, message });
      }
    });
    grid[field] = values;
  }
  if (problems.some((p) => p.severity === 'error')) return { problems };
  const size = Object.values(grid).reduce((n, values) => n * values.length, 1);
  if (size > MAX_SWEEP_POINTS) {
    const shape = Object.values(grid).map((v) => v.length).join(' x ');
    error('sweep', `the sweep has ${size} points (${shape}), more than ${MAX_SWEEP_POINTS}`, 'try fewer values, or sweep fewer fields at once');
    return { problems };
  }
  // Values that pass alone can still clash together (a depth with a perLayer list of another length).
  const points: SweepPoint[] = [];
  for (const values of gridPoints(grid)) {
    const result = resolve(withSweepValues(raw, values));
    if (result.experiment) points.push({ values, experiment: result.experiment });
    else {
      for (const p of result.problems.filter((q) => q.severity === 'error' && !known.has(problemKey(q)))) {
        error('sweep', `the point ${JSON.stringify(values)} fails: ${p.field}: ${p.message}`, p.fix ?? 'drop one of those values');
      }
    }
  }
  return problems.length > 0 ? { problems } : { grid, points, problems };
}
