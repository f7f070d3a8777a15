// Reading NAME.gowide.json files: parse with positions, resolve, and report problems with locations.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { ValidateExperimentResult } from '../protocol';
import { ExperimentError, type LocatedProblem } from './errors';
import { locateField, parseJsonText } from './json-text';
import { resolveExperiment, type ResolveResult } from './resolve';
import type { Experiment } from './types';

export interface CheckedExperimentText {
  experiment?: Experiment;
  /** Every problem, with line and column where the field is found in the text. */
  problems: LocatedProblem[];
  sweep?: ResolveResult['sweep'];
}

/** Parses and resolves experiment text; never throws for bad content. */
export function checkExperimentText(text: string, filePath: string): CheckedExperimentText {
  const parsed = parseJsonText(text);
  if (parsed.error) {
    const { line, column, message } = parsed.error;
    return {
      problems: [{ field: '', message: `invalid JSON: ${message}`, fix: `fix the JSON syntax at line ${line}, column ${column}`, severity: 'error', line, column }],
    };
  }
  const result = resolveExperiment(parsed.value, filePath);
  const duplicates: LocatedProblem[] = parsed.duplicateKeys.map((field) => ({
    field, message: `${field} is given twice; the last one wins`, fix: 'remove one of them', severity: 'warning',
  }));
  const problems = [...result.problems, ...duplicates].map((problem) => {
    const at = locateField(parsed, problem.field);
    return at ? { ...problem, line: at.line, column: at.column } : problem;
  });
  return { experiment: result.experiment, problems, ...(result.sweep ? { sweep: result.sweep } : {}) };
}

/**
 * Reads, parses and resolves an experiment file. Throws ExperimentError (file + problems) when the file
 * is missing, is not valid JSON (line:column given), or has any error; warnings are returned.
 */
export function loadExperimentFile(path: string): { experiment: Experiment; problems: LocatedProblem[]; sweep?: ResolveResult['sweep'] } {
  const file = resolvePath(path);
  if (!existsSync(file)) {
    throw new ExperimentError(file, [{ field: '', message: `file not found (${file})`, fix: 'check the path, or create it with "gowide: New Experiment"', severity: 'error' }]);
  }
  if (statSync(file).isDirectory()) {
    throw new ExperimentError(file, [{ field: '', message: 'is a folder, not an experiment file', fix: 'give the path of a NAME.gowide.json file', severity: 'error' }]);
  }
  const { experiment, problems, sweep } = checkExperimentText(readFileSync(file, 'utf8'), file);
  if (!experiment) throw new ExperimentError(file, problems);
  return { experiment, problems, ...(sweep ? { sweep } : {}) };
}

/** ValidateExperimentResult whose problems also carry line and column where known. */
export interface LocatedValidateResult extends ValidateExperimentResult {
  problems: LocatedProblem[];
}

/** The protocol's ValidateExperiment: `text` (unsaved editor contents) when given, else the file. */
export function validateExperimentText(path: string, text?: string): LocatedValidateResult {
  const file = resolvePath(path);
  if (text === undefined) {
    try {
      const loaded = loadExperimentFile(file);
      return { ok: true, problems: loaded.problems };
    } catch (error) {
      if (error instanceof ExperimentError) return { ok: false, problems: error.problems };
      throw error;
    }
  }
  const checked = checkExperimentText(text, file);
  return { ok: checked.experiment !== undefined, problems: checked.problems };
}
