// Well-formed JSON-RPC messages that vscode-jsonrpc or vscode-languageserver accept but mishandle,
// refused before they reach them (found by test/sidecar/fuzz.test.ts). The framing reader calls the
// gate for every message; a refusal is reported like other bad input.
import type { Message } from 'vscode-jsonrpc/node';

/** Why `message` is refused, or undefined to let it through. */
export type MessageGate = (message: Message) => string | undefined;

export function createMessageGate(): MessageGate {
  let initializeSeen = false;
  return (message) => {
    const m = message as { id?: unknown; method?: unknown; params?: unknown };
    if (m.method === 'initialize' && 'id' in m) {
      // vscode-languageserver starts a parent-process watchdog for every initialize with a numeric
      // processId; a second one naming a process that does not exist made the sidecar exit 3 s later.
      if (initializeSeen) return 'initialize was already received; it may be sent only once';
      initializeSeen = true;
    }
    if (m.method === '$/cancelRequest') {
      // vscode-jsonrpc reads params.id.toString() inside the reader's callback; without an id that threw
      // there, and the reader dropped every message buffered behind the cancel.
      const id = (m.params as { id?: unknown } | null | undefined)?.id;
      if (typeof id !== 'string' && typeof id !== 'number') return '$/cancelRequest needs params.id (a string or a number)';
    }
    if (typeof m.method === 'string' && m.method.startsWith('textDocument/')) return textDocumentProblem(m.method, m.params);
    return undefined;
  };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isPosition = (value: unknown) => isObject(value) && Number.isInteger(value.line) && Number.isInteger(value.character);

/**
 * vscode-languageserver's TextDocuments stores whatever didOpen/didChange carry: a didOpen without a
 * string uri put a document keyed undefined into the open set, and every later look at the open
 * documents (diagnostics, the lens refresh on each metrics or run-state event) threw on it.
 */
function textDocumentProblem(method: string, params: unknown): string | undefined {
  const document = isObject(params) ? params.textDocument : undefined;
  if (!isObject(document) || typeof document.uri !== 'string') return `${method} needs params.textDocument.uri (a string)`;
  if (method === 'textDocument/didOpen') {
    if (typeof document.text !== 'string') return `${method} needs params.textDocument.text (a string)`;
    if (typeof document.languageId !== 'string') return `${method} needs params.textDocument.languageId (a string)`;
    if (!Number.isInteger(document.version)) return `${method} needs params.textDocument.version (an integer)`;
  }
  if (method === 'textDocument/didChange') {
    if (!Number.isInteger(document.version)) return `${method} needs params.textDocument.version (an integer)`;
    const changes = (params as Record<string, unknown>).contentChanges;
    const changeOk = (change: unknown) =>
      isObject(change) &&
      typeof change.text === 'string' &&
      (change.range === undefined || (isObject(change.range) && isPosition(change.range.start) && isPosition(change.range.end)));
    if (!Array.isArray(changes) || !changes.every(changeOk)) {
      return `${method} needs params.contentChanges: an array of {text, range?} with string text and integer positions`;
    }
  }
  return undefined;
}
