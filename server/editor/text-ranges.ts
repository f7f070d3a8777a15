// From the experiment parser's field locations (1-based line/column of a key or array element) to
// LSP ranges (0-based), and back from a cursor position to the field under it. Pure.
import type { Position, Range } from 'vscode-languageserver';
import type { ParsedJson, TextPosition } from '../experiment/json-text';

/** Offset just past the JSON token that starts at `offset` (a string, number or literal). */
export function tokenEnd(text: string, offset: number): number {
  if (text[offset] === '"') {
    let i = offset + 1;
    while (i < text.length && text[i] !== '"' && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
    return Math.min(text.length, i + 1);
  }
  const match = /^[-+\w.]+/.exec(text.slice(offset, offset + 64));
  return offset + (match ? match[0].length : 1);
}

export function toPosition(at: TextPosition): Position {
  return { line: at.line - 1, character: at.column - 1 };
}

/** The range of the key (or array element) at `at`. */
export function tokenRange(text: string, at: TextPosition): Range {
  const start = toPosition(at);
  return { start, end: { line: start.line, character: start.character + (tokenEnd(text, at.offset) - at.offset) } };
}

/** Where the value of the object key at `at` starts (after the colon), as an offset. */
export function valueOffset(text: string, at: TextPosition): number {
  let i = tokenEnd(text, at.offset);
  while (i < text.length && ' \t\r\n:'.includes(text[i])) i++;
  return i;
}

/** The deepest field whose key (or element) token contains `position`. */
export function fieldAt(text: string, parsed: ParsedJson, position: Position): { path: string; range: Range } | undefined {
  let best: { path: string; range: Range } | undefined;
  for (const [path, at] of parsed.locations) {
    if (!path) continue;
    const range = tokenRange(text, at);
    if (range.start.line !== position.line) continue;
    if (position.character < range.start.character || position.character > range.end.character) continue;
    if (!best || path.length > best.path.length) best = { path, range };
  }
  return best;
}
