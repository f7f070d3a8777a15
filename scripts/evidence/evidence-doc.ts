// Where the evidence is kept (docs/evidence/ and docs/EVIDENCE.md), and how the generated parts of the
// document are rewritten: the text between <!-- generated:NAME --> and <!-- /generated:NAME -->.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const EVIDENCE_DIR = join(ROOT, 'docs', 'evidence');
export const EVIDENCE_DOC = join(ROOT, 'docs', 'EVIDENCE.md');

const openMarker = (name: string) => `<!-- generated:${name} -->`;

/** Replaces the text between the markers of NAME; appends the markers when the document has none. */
export function replaceGenerated(doc: string, name: string, body: string): string {
  const open = openMarker(name);
  const close = `<!-- /generated:${name} -->`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(close);
  if (start < 0 || end < start) return `${doc.trimEnd()}\n\n${open}\n${body}\n${close}\n`;
  return `${doc.slice(0, start + open.length)}\n${body}\n${doc.slice(end)}`;
}

/** The names of the generated parts a document has, in its order. */
export function generatedNames(doc: string): string[] {
  return [...doc.matchAll(new RegExp(openMarker('([a-z0-9-]+)'), 'g'))].map((m) => m[1]);
}

export const README = join(ROOT, 'README.md');

/** Rewrites the named generated parts of a document (docs/EVIDENCE.md unless told); the prose around them is kept. */
export function writeGenerated(sections: Record<string, string>, file = EVIDENCE_DOC): void {
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Evidence: does going wide, then narrow pay off?\n';
  for (const [name, body] of Object.entries(sections)) doc = replaceGenerated(doc, name, body);
  writeFileSync(file, doc);
}
