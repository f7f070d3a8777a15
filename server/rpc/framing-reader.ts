// A MessageReader for the LSP base protocol (Content-Length framed JSON) that survives garbage.
//
// vscode-jsonrpc's own StreamMessageReader trusts its input: a Content-Length larger than the body
// swallows the messages that follow (a 50 MB length waits forever), a header without Content-Length
// leaves its body in the buffer to corrupt every later header, and invalid JSON is only reported as a
// reader error, with no ParseError response. This reader resynchronises on the next header instead and
// reports every bad frame through `onBadInput`, so the caller can answer with a JSON-RPC error.
//
// Resynchronising is safe because a complete header ("Content-Length: N" CRLF ... CRLF CRLF) can never
// occur inside a valid JSON body: outside strings it is not JSON, and JSON strings cannot hold raw CR/LF.
import { AbstractMessageReader, Disposable, type DataCallback, type Message } from 'vscode-jsonrpc/node';
import type { Readable } from 'node:stream';
import type { MessageGate } from './message-gate';

/**
 * The largest body accepted. What a client sends is small: requests with a few paths and numbers, and
 * the text of one *.gowide.json file (didOpen, didChange, validateExperiment, netSizes), a few KB. The
 * big messages (getMetrics results) go the other way and are not read here. The limit was 32 MB, and a
 * 31 MB body of "[" then took 8 s and 1.6 GB to reject; 4 MB leaves a thousand times an experiment
 * file's size.
 */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** JSON nesting deeper than this is refused before JSON.parse (whose cost on deep input is far above
 *  linear in time and memory). Protocol messages nest fewer than ten levels. */
export const MAX_JSON_DEPTH = 128;
const MAX_HEADER_BYTES = 8 * 1024;
/** Bytes re-scanned before each new piece of a body, for a misplaced header split across chunks. */
const HEADER_OVERLAP = 256;

export type BadInputKind = 'header' | 'too-large' | 'too-deep' | 'truncated' | 'json' | 'not-a-message' | 'refused';

export interface BadInput {
  kind: BadInputKind;
  message: string;
  /** The id of the request, when the bad frame was valid JSON with one. */
  id?: string | number | null;
}

const HEADER_PATTERN = /Content-Length[ \t]*:[ \t]*\d+[ \t]*\r\n(?:[!-9;-~]+[ \t]*:[^\r\n]*\r\n)*\r\n/i;
const HEADER_START = /Content-Length[ \t]*:/i;
const EMPTY = Buffer.alloc(0);

export class FramingMessageReader extends AbstractMessageReader {
  /** Bytes received while looking for a header. */
  private pending: Buffer = EMPTY;
  /** The body of the frame being read, allocated at its Content-Length; undefined while looking
   *  for a header. Filling it in place keeps a large body linear: joining every new chunk onto what
   *  had arrived copied a 31 MB body about 250 times. */
  private body: Buffer | undefined;
  /** Bytes of `body` received so far. */
  private filled = 0;
  private callback: DataCallback | undefined;

  constructor(
    private readonly input: Readable,
    private readonly onBadInput: (bad: BadInput) => void,
    /** Refuses messages that are well formed but must not reach the connection (message-gate.ts). */
    private readonly gate?: MessageGate,
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (chunk: Buffer) => this.receive(chunk);
    const onError = (error: Error) => this.fireError(error);
    const onClose = () => this.fireClose();
    this.input.on('data', onData);
    this.input.on('error', onError);
    this.input.on('end', onClose);
    this.input.on('close', onClose);
    return Disposable.create(() => {
      this.input.off('data', onData);
      this.input.off('error', onError);
      this.input.off('end', onClose);
      this.input.off('close', onClose);
    });
  }

  private receive(chunk: Buffer): void {
    try {
      let input = chunk;
      if (this.body) {
        input = this.fillBody(chunk);
        if (this.body) return; // the body is still incomplete
      }
      this.pending = this.pending.length === 0 ? input : Buffer.concat([this.pending, input]);
      while (this.readHeader()) {
        // Each round consumes a header (and its body, when it has arrived); loop until more input is needed.
      }
    } catch (error) {
      // Never let a framing bug kill the process: drop what we have and report it.
      this.pending = EMPTY;
      this.body = undefined;
      this.fireError(error);
    }
  }

  /** Consumes one header (and as much of its body as has arrived) from `pending`; false when more
   *  input is needed. */
  private readHeader(): boolean {
    const end = this.pending.indexOf('\r\n\r\n');
    if (end === -1) {
      if (this.pending.length > MAX_HEADER_BYTES) {
        this.report('header', `no header end (CRLF CRLF) within ${MAX_HEADER_BYTES} bytes`);
        return this.resync(1);
      }
      // Bytes that cannot be the beginning of a header are garbage; skip to the next header start.
      if (looksLikeHeaderPrefix(this.pending.toString('latin1'))) return false;
      this.report('header', 'skipped bytes that are not a message header');
      return this.resync(1);
    }
    const headerText = this.pending.subarray(0, end).toString('latin1');
    const parsed = parseHeader(headerText);
    if (typeof parsed === 'string') {
      this.report('header', parsed);
      return this.resync(1);
    }
    if (parsed > MAX_MESSAGE_BYTES) {
      this.report('too-large', `Content-Length ${parsed} exceeds the ${MAX_MESSAGE_BYTES}-byte limit; message skipped`);
      return this.resync(1);
    }
    const rest = this.pending.subarray(end + 4);
    this.pending = EMPTY;
    this.body = Buffer.allocUnsafe(parsed);
    this.filled = 0;
    const left = this.fillBody(rest);
    if (this.body) return false;
    this.pending = left;
    return true;
  }

  /**
   * Copies the next bytes of `input` into the body being read. A header inside the body means this
   * frame's Content-Length was wrong: the frame is dropped and reading goes on at that header. latin1
   * keeps byte offsets equal to string offsets; the overlap re-checks a header split across chunks.
   * Returns the bytes of `input` that follow the body (or start at the misplaced header); `body` is
   * undefined afterwards when the frame is done.
   */
  private fillBody(input: Buffer): Buffer {
    const body = this.body!;
    const take = Math.min(input.length, body.length - this.filled);
    input.copy(body, this.filled, 0, take);
    const from = Math.max(0, this.filled - HEADER_OVERLAP);
    const end = this.filled + take;
    const beyond = input.subarray(take, take + HEADER_OVERLAP);
    const window = (beyond.length > 0 ? Buffer.concat([body.subarray(from, end), beyond]) : body.subarray(from, end)).toString('latin1');
    const found = window.search(HEADER_PATTERN);
    if (found !== -1 && from + found < end) {
      this.report('truncated', `a message body ended after ${from + found} of the ${body.length} bytes its Content-Length announced`);
      this.body = undefined;
      return Buffer.concat([body.subarray(from + found, end), input.subarray(take)]);
    }
    this.filled = end;
    if (end < body.length) return EMPTY;
    this.body = undefined;
    this.deliver(body);
    return input.subarray(take);
  }

  private deliver(body: Buffer): void {
    if (nestedDeeperThan(body, MAX_JSON_DEPTH)) {
      this.report('too-deep', `JSON nested deeper than ${MAX_JSON_DEPTH} levels; message skipped`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (error) {
      this.report('json', `invalid JSON: ${(error as Error).message}`);
      return;
    }
    const problem = messageProblem(value);
    const refusal = problem ? undefined : this.gate?.(value as Message);
    if (problem || refusal) {
      const id = (value as { id?: unknown } | null)?.id;
      this.onBadInput({
        kind: problem ? 'not-a-message' : 'refused',
        message: (problem ?? refusal)!,
        id: typeof id === 'string' || typeof id === 'number' ? id : null,
      });
      return;
    }
    this.callback?.(value as Message);
  }

  /** Drops bytes up to the next header start at or after `from`, keeping a possible partial one. */
  private resync(from: number): boolean {
    const text = this.pending.toString('latin1');
    const rest = text.slice(from);
    const next = rest.search(HEADER_START);
    if (next !== -1) {
      this.pending = this.pending.subarray(from + next);
      return true;
    }
    // Keep a tail that could be the beginning of "Content-Length:" split across chunks.
    this.pending = this.pending.subarray(this.pending.length - headerStartSuffixLength(text));
    return false;
  }

  private report(kind: BadInputKind, message: string): void {
    this.onBadInput({ kind, message });
  }
}

/** Content-Length from a header block, or a description of what is wrong with it. */
function parseHeader(text: string): number | string {
  let length: number | undefined;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) return `malformed header line ${JSON.stringify(line.slice(0, 80))}`;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d+$/.test(value)) return `Content-Length must be a non-negative integer, got ${JSON.stringify(value.slice(0, 40))}`;
      length = Number(value);
    }
  }
  if (length === undefined) return 'header has no Content-Length';
  return length;
}

/** True when arrays and objects in `bytes` (JSON text) nest deeper than `limit`: one pass over the
 *  bytes, skipping strings, so deep input is refused before JSON.parse spends time and memory on it. */
export function nestedDeeperThan(bytes: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c) i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > limit) return true;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return false;
}

/** True when `text` could be the start of a header block whose end (CRLF CRLF) has not arrived yet. */
function looksLikeHeaderPrefix(text: string): boolean {
  const lines = text.split('\r\n');
  const last = lines.pop()!;
  const completeOk = lines.every((line) => /^[!-9;-~]+[ \t]*:[^\r\n]*$/.test(line));
  const lastOk = /^[!-9;-~]*(?:[ \t]*:[^\r\n]*)?\r?$/.test(last);
  return completeOk && lastOk;
}

/** Length of the longest suffix of `text` that is a prefix of "Content-Length:" (case-insensitive). */
function headerStartSuffixLength(text: string): number {
  const probe = 'content-length:';
  const tail = text.slice(-probe.length).toLowerCase();
  for (let n = Math.min(tail.length, probe.length - 1); n > 0; n--) {
    if (probe.startsWith(tail.slice(tail.length - n))) return n;
  }
  return 0;
}

function messageProblem(value: unknown): string | undefined {
  if (Array.isArray(value)) return 'batch requests (JSON arrays) are not supported';
  if (typeof value !== 'object' || value === null) return 'a JSON-RPC message must be a JSON object';
  const message = value as Record<string, unknown>;
  if (message.jsonrpc !== '2.0') return 'the "jsonrpc" member must be "2.0"';
  if ('method' in message && typeof message.method !== 'string') return 'the "method" member must be a string';
  if ('id' in message && message.id !== null && typeof message.id !== 'string' && typeof message.id !== 'number') {
    return 'the "id" member must be a string, a number or null';
  }
  if (!('method' in message) && !('result' in message) && !('error' in message)) {
    return 'the message has neither "method" nor "result"/"error"';
  }
  return undefined;
}
