// Reads one object of an experiment file field by field: each read checks type and range, records a
// problem naming the field path, what is wrong and the fix, and falls back to the default so that one
// pass reports every problem. Keys nobody read are reported as unknown (a warning).
import type { ExperimentProblem, NumberRange } from '../protocol';
import { joinPath } from './json-text';

export interface ReadContext {
  problems: ExperimentProblem[];
  /** Every field path any reader asked for (lets a test compare resolve with the JSON Schema). */
  readPaths: Set<string>;
}

/** The resolver's rule for a range the schema states. */
export function ruleFromRange(range: NumberRange): NumberRule {
  const low = range.exclusiveMinimum !== undefined ? { min: range.exclusiveMinimum, exclusiveMin: true } : { min: range.minimum };
  return { ...low, max: range.maximum, integer: range.integer };
}

export interface NumberRule {
  min?: number;
  max?: number;
  /** The value must be greater than min, not equal. */
  exclusiveMin?: boolean;
  integer?: boolean;
  /** What the number is, for messages ("factor"). Default: the key. */
  label?: string;
  /** Fix for a value below the minimum. */
  belowMinFix?: string;
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The closest of `candidates` to `word`, when close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

export class FieldReader {
  private readonly used = new Set<string>();

  constructor(
    private readonly raw: Record<string, unknown>,
    readonly path: string,
    private readonly ctx: ReadContext,
  ) {}

  fieldPath(key: string): string {
    return joinPath(this.path, key);
  }

  error(field: string, message: string, fix?: string): void {
    this.ctx.problems.push({ field, message, fix, severity: 'error' });
  }

  warn(field: string, message: string, fix?: string): void {
    this.ctx.problems.push({ field, message, fix, severity: 'warning' });
  }

  /** The raw value of `key` (marks it known); undefined when absent. */
  take(key: string): unknown {
    this.used.add(key);
    this.ctx.readPaths.add(this.fieldPath(key));
    return this.raw[key];
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  /** Checks a number against a rule; returns false (after recording a problem) when it fails. */
  checkNumber(field: string, value: unknown, rule: NumberRule): value is number {
    const label = rule.label ?? field.replace(/^.*[.\]]/, '');
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      const asNumber = typeof value === 'string' ? Number(value) : NaN;
      this.error(
        field,
        `${label} must be a number, not ${typeName(value)}${typeof value === 'string' ? ` (${JSON.stringify(value)})` : ''}`,
        Number.isFinite(asNumber) && typeof value === 'string' && value.trim() !== '' ? `write ${asNumber} without quotes` : `write a number${rule.min !== undefined ? ` of at least ${rule.min}` : ''}`,
      );
      return false;
    }
    if (rule.integer && !Number.isInteger(value)) {
      this.error(field, `${label} must be a whole number, got ${value}`, `use ${Math.max(rule.min ?? -Infinity, Math.round(value))}`);
      return false;
    }
    if (rule.min !== undefined && (rule.exclusiveMin ? value <= rule.min : value < rule.min)) {
      this.error(
        field,
        `${label} must be ${rule.exclusiveMin ? '>' : '>='} ${rule.min}, got ${value}`,
        rule.belowMinFix ?? (rule.exclusiveMin ? `use a value above ${rule.min}` : `use ${rule.min} or more`),
      );
      return false;
    }
    if (rule.max !== undefined && value > rule.max) {
      this.error(field, `${label} must be <= ${rule.max}, got ${value}`, `use ${rule.max} or less`);
      return false;
    }
    return true;
  }

  number(key: string, rule: NumberRule, fallback: number): number {
    const value = this.take(key);
    if (value === undefined) return fallback;
    return this.checkNumber(this.fieldPath(key), value, { label: key, ...rule }) ? value : fallback;
  }

  optionalNumber(key: string, rule: NumberRule): number | undefined {
    const value = this.take(key);
    if (value === undefined) return undefined;
    return this.checkNumber(this.fieldPath(key), value, { label: key, ...rule }) ? value : undefined;
  }

  /** One of `values`; `noun` completes "... is not <noun>" ("a model family"). */
  choice<T extends string>(key: string, values: readonly T[], noun: string, fallback: T): T {
    const value = this.take(key);
    if (value === undefined) return fallback;
    return this.checkChoice(this.fieldPath(key), value, values, noun) ? value : fallback;
  }

  optionalChoice<T extends string>(key: string, values: readonly T[], noun: string): T | undefined {
    const value = this.take(key);
    if (value === undefined) return undefined;
    return this.checkChoice(this.fieldPath(key), value, values, noun) ? value : undefined;
  }

  checkChoice<T extends string>(field: string, value: unknown, values: readonly T[], noun: string): value is T {
    if (typeof value === 'string' && (values as readonly string[]).includes(value)) return true;
    const shown = typeof value === 'string' ? JSON.stringify(value) : `${typeName(value)}`;
    this.error(field, `${shown} is not ${noun}`, `use one of ${values.join(', ')}`);
    return false;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.take(key);
    if (value === undefined) return fallback;
    if (typeof value === 'boolean') return value;
    this.error(this.fieldPath(key), `${key} must be true or false, not ${typeName(value)}`, `write true or false without quotes`);
    return fallback;
  }

  string(key: string): string | undefined {
    const value = this.take(key);
    if (value === undefined) return undefined;
    if (typeof value === 'string') return value;
    this.error(this.fieldPath(key), `${key} must be a string, not ${typeName(value)}`, 'put the value in double quotes');
    return undefined;
  }

  /** An array field; undefined (after a problem) when present but not an array. */
  array(key: string): unknown[] | undefined {
    const value = this.take(key);
    if (value === undefined) return undefined;
    if (Array.isArray(value)) return value;
    this.error(this.fieldPath(key), `${key} must be an array, not ${typeName(value)}`, `write it as [ ... ]`);
    return undefined;
  }

  /** A nested object as its own reader; absent gives an empty one. */
  section(key: string): FieldReader {
    const value = this.take(key);
    if (value !== undefined && !isPlainObject(value)) {
      this.error(this.fieldPath(key), `${key} must be an object, not ${typeName(value)}`, `write it as { ... }`);
    }
    return new FieldReader(isPlainObject(value) ? value : {}, this.fieldPath(key), this.ctx);
  }

  /** Warns about keys no read asked for, suggesting the likely intended one. */
  finish(): void {
    const known = [...this.used];
    for (const key of Object.keys(this.raw)) {
      if (this.used.has(key)) continue;
      const guess = closest(key, known);
      this.warn(
        this.fieldPath(key),
        `unknown field "${key}"${this.path ? ` in ${this.path}` : ''}; it is ignored`,
        guess ? `did you mean "${guess}"?` : `remove it; known fields: ${known.join(', ')}`,
      );
    }
  }
}
