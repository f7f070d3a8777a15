// The one error thrown for a bad experiment file: it carries the file and every problem, and its
// message lists the errors as "broken.gowide.json: model.family: "resnett" is not a model family; use one of ...".
import { basename } from 'node:path';
import type { ExperimentProblem } from '../protocol';

/** A problem that may know where in the text it is (1-based line and column). */
export interface LocatedProblem extends ExperimentProblem {
  line?: number;
  column?: number;
}

/** One problem as a line: "file: field: message; fix" (file:line:column for JSON syntax errors). */
export function formatProblem(file: string, problem: LocatedProblem): string {
  const name = basename(file);
  const where = problem.field ? `${name}: ${problem.field}` : problem.line !== undefined ? `${name}:${problem.line}:${problem.column}` : name;
  return `${where}: ${problem.message}${problem.fix ? `; ${problem.fix}` : ''}`;
}

export class ExperimentError extends Error {
  constructor(
    readonly file: string,
    readonly problems: LocatedProblem[],
  ) {
    const errors = problems.filter((p) => p.severity === 'error');
    super((errors.length > 0 ? errors : problems).map((p) => formatProblem(file, p)).join('\n'));
    this.name = 'ExperimentError';
  }
}
