// Numeric settings' ranges come from the experiment schema (gowide.schema.json) and nowhere else:
// the resolver, the sidecar's served settings, the extension's check of webview messages and the
// monitor's form all read them here. Pure (no Node APIs), so the webview bundles can import it.
import schema from './gowide.schema.json';
import type { NumberRange } from '../protocol';

interface SchemaNumber {
  type?: string;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  description?: string;
}

/** The schema's entry for `section.key` (e.g. finetune.kdWeight); throws for a name it lacks. */
export function schemaField(section: string, key: string): SchemaNumber {
  const sections = schema.properties as Record<string, { properties?: Record<string, SchemaNumber> }>;
  const field = sections[section]?.properties?.[key];
  if (!field) throw new Error(`gowide.schema.json has no ${section}.${key}`);
  return field;
}

/** The range of the numeric setting `section.key`. */
export function schemaRange(section: string, key: string): NumberRange {
  const { minimum, exclusiveMinimum, maximum, type } = schemaField(section, key);
  return {
    ...(minimum !== undefined ? { minimum } : {}),
    ...(exclusiveMinimum !== undefined ? { exclusiveMinimum } : {}),
    ...(maximum !== undefined ? { maximum } : {}),
    integer: type === 'integer',
  };
}

/** Why `value` is outside `range`, in words for a form or an error message; undefined when it fits. */
export function rangeProblem(range: NumberRange, value: number): string | undefined {
  if (!Number.isFinite(value)) return 'not a number';
  const fits =
    (!range.integer || Number.isInteger(value)) &&
    (range.minimum === undefined || value >= range.minimum) &&
    (range.exclusiveMinimum === undefined || value > range.exclusiveMinimum) &&
    (range.maximum === undefined || value <= range.maximum);
  return fits ? undefined : `must be ${describeRange(range)}`;
}

/** E.g. "a whole number from 1 to 64", "a number above 0 and at most 10". */
export function describeRange(range: NumberRange): string {
  return [range.integer ? 'a whole number' : 'a number', describeBounds(range)].filter(Boolean).join(' ');
}

/** The bounds alone, e.g. "from 1 to 64", "above 0 and at most 10" (empty when there are none). */
export function describeBounds(range: NumberRange): string {
  const low = range.exclusiveMinimum !== undefined ? `above ${range.exclusiveMinimum}` : range.minimum !== undefined ? `from ${range.minimum}` : '';
  const high = range.maximum !== undefined ? (range.exclusiveMinimum !== undefined ? `and at most ${range.maximum}` : `to ${range.maximum}`) : '';
  return [low, high].filter(Boolean).join(' ');
}
