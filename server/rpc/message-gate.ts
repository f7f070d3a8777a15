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
    return undefined;
  };
}
