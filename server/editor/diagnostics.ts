// Diagnostics for a *.gowide.json text: the experiment module's problems (schema-like checks, semantic
// checks such as a widening factor that makes the wide net exceed memory), placed on the field.
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import { checkExperimentText } from '../experiment';
import type { LocatedProblem } from '../experiment/errors';
import { tokenRange } from './text-ranges';

export const DIAGNOSTIC_SOURCE = 'gowide';

function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return offset + column - 1;
}

export function experimentDiagnostics(text: string, filePath: string): Diagnostic[] {
  const { problems } = checkExperimentText(text, filePath);
  return problems.map((problem) => toDiagnostic(text, problem));
}

function toDiagnostic(text: string, problem: LocatedProblem): Diagnostic {
  const range =
    problem.line !== undefined && problem.column !== undefined
      ? tokenRange(text, { line: problem.line, column: problem.column, offset: offsetOf(text, problem.line, problem.column) })
      : { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } };
  const where = problem.field ? `${problem.field}: ` : '';
  return {
    range,
    severity: problem.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    source: DIAGNOSTIC_SOURCE,
    code: problem.field || undefined,
    message: `${where}${problem.message}${problem.fix ? `; ${problem.fix}` : ''}`,
  };
}
