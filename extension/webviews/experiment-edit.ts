// Text edits to a *.gowide.json that change one top-level section (widen, finetune) and keep the rest
// of the file as the user wrote it. Pure: the panels turn the result into a vscode.WorkspaceEdit.
import { parseJsonText } from '../../server/experiment/json-text';

export interface TextReplacement {
  start: number;
  end: number;
  text: string;
}

export type SectionEdit = { ok: true; edit: TextReplacement } | { ok: false; reason: string };

/** Offset just past the JSON value that starts at (or after whitespace from) `from`. */
function valueEnd(text: string, from: number): number {
  let i = from;
  let depth = 0;
  let inString = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') {
        inString = false;
        if (depth === 0) return i + 1;
      }
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
      if (depth < 0) return i;
    } else if (depth === 0 && (c === ',' || c === '\n')) return i;
  }
  return i;
}

function indentOf(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

/** Replaces (or adds) the top-level `section` with `value`, formatted at the section's indentation. */
export function replaceSection(text: string, section: string, value: Record<string, unknown>): SectionEdit {
  const parsed = parseJsonText(text);
  if (parsed.error) return { ok: false, reason: `the file is not valid JSON (line ${parsed.error.line}): fix it first` };
  if (typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
    return { ok: false, reason: 'the file is not a JSON object' };
  }
  const key = parsed.locations.get(section);
  if (key) {
    const colon = text.indexOf(':', key.offset + section.length + 2);
    let start = colon + 1;
    while (' \t\r\n'.includes(text[start])) start++;
    const indent = indentOf(text, key.offset);
    const formatted = JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`);
    return { ok: true, edit: { start, end: valueEnd(text, start), text: formatted } };
  }
  const open = text.indexOf('{');
  const hasFields = Object.keys(parsed.value).length > 0;
  const formatted = JSON.stringify(value, null, 2).replace(/\n/g, '\n  ');
  return { ok: true, edit: { start: open + 1, end: open + 1, text: `\n  ${JSON.stringify(section)}: ${formatted}${hasFields ? ',' : '\n'}` } };
}

function sectionOf(text: string, section: string): Record<string, unknown> {
  const value = (parseJsonText(text).value ?? {}) as Record<string, unknown>;
  const found = value[section];
  return typeof found === 'object' && found !== null && !Array.isArray(found) ? { ...(found as Record<string, unknown>) } : {};
}

/** The edit for a widening factor: one block (perLayer, filled from the current factors) or all blocks. */
export function setFactorEdit(text: string, block: number | 'all', factor: number, depth: number): SectionEdit {
  if (!Number.isFinite(factor) || factor < 1) return { ok: false, reason: `factor ${factor} is below 1` };
  const widen = sectionOf(text, 'widen');
  if (block === 'all') {
    widen.factor = factor;
    delete widen.perLayer;
    return replaceSection(text, 'widen', widen);
  }
  if (!Number.isInteger(block) || block < 0 || block >= depth) return { ok: false, reason: `there is no block ${block} (the net has ${depth})` };
  const base = typeof widen.factor === 'number' ? widen.factor : 1;
  const current = Array.isArray(widen.perLayer) && widen.perLayer.length === depth ? (widen.perLayer as number[]) : new Array<number>(depth).fill(base);
  const perLayer = current.slice();
  perLayer[block] = factor;
  widen.perLayer = perLayer;
  if (widen.factor === undefined) widen.factor = base;
  return replaceSection(text, 'widen', widen);
}

/** The edit that writes fine-tuning settings into the finetune section, keeping its other fields. */
export function finetuneSettingsEdit(text: string, settings: Record<string, number>): SectionEdit {
  return replaceSection(text, 'finetune', { ...sectionOf(text, 'finetune'), ...settings });
}
