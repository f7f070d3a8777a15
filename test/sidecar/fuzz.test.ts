// Fuzzes the real built sidecar (node dist/cli.js sidecar --stdio) with thousands of malformed and
// mutated JSON-RPC inputs: random bytes, random JSON, mutated requests of every protocol method, bad
// framing, unknown methods and garbage notifications. Valid engineInfo probes are interleaved and must
// be answered within seconds; at the end a valid request must be answered, the process must be alive
// and its resident memory bounded.
//
// Deterministic: a seeded PRNG drives everything (GOWIDE_FUZZ_SEED and GOWIDE_FUZZ_INPUTS override).
// Every path a request names lies in a fresh temporary folder, and startStage only ever names
// experiment files that do not exist, so no training starts and nothing is written in the repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ResponseError } from 'vscode-languageserver/node';
import { BACKEND_NAMES, EngineInfoRequest, ValidateExperimentRequest } from '../../server/protocol';
import { frame, initializeParams, repoRoot, startBuiltSidecar, type SidecarUnderTest } from './sidecar-process';

const SEED = Number(process.env.GOWIDE_FUZZ_SEED ?? 0x60a1de);
const INPUTS = Number(process.env.GOWIDE_FUZZ_INPUTS ?? 6000);
const PROBE_EVERY = 200;
const PROBE_TIMEOUT_MS = 5000;
const MB = 1024 * 1024;
/** How long the sidecar may take, idle after the fuzz, to get back under the RSS bound. */
const SETTLE_MS = 15_000;
/**
 * A ceiling for transient peaks above the RSS after initialize: garbage the sidecar has not collected
 * yet (seen: 410 to 610 MB VmHWM on 2 cores, which varies with when V8 collects). The leak check is the
 * settled RSS bound.
 */
const PEAK_HEADROOM = 1024 * MB;

// ---------- seeded randomness ----------

class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** mulberry32: uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

// ---------- raw tokens that JSON.stringify cannot produce ----------

// A string value "\u0001TOKEN\u0001" is replaced in the serialised body by the raw TOKEN, so bodies can
// carry NaN, Infinity, 1e400, deep nesting and other text no JavaScript value stringifies to.
const RAW = '\u0001';
const raw = (token: string) => `${RAW}${token}${RAW}`;
const RAW_PATTERN = /"\\u0001([^"\\]*)\\u0001"/g;
function serialise(value: unknown): string {
  return JSON.stringify(value).replace(RAW_PATTERN, (_, token: string) => {
    const deep = /^DEEP(\[|\{):(\d+)$/.exec(token);
    if (!deep) return token;
    const n = Number(deep[2]);
    return deep[1] === '[' ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '0' + '}'.repeat(n);
  });
}
function framed(body: string | Buffer, contentLength?: number): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([Buffer.from(`Content-Length: ${contentLength ?? bytes.length}\r\n\r\n`, 'latin1'), bytes]);
}

const NUMBER_TOKENS = ['NaN', '-NaN', 'Infinity', '-Infinity', '1e400', '-1e400', '1e-400', '-0', '0x10', '01', '.5', '5.', '+1', 'undefined', '1_000'];
const INTERESTING_NUMBERS = [0, -0, -1, 1.5, -2.5, 2 ** 31, -(2 ** 31), 2 ** 53 + 2, -(2 ** 63), 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER];
const INTERESTING_STRINGS = [
  '', ' ', '\u0000', '\ud800', '\udfff\ud800', 'é✓😀', '__proto__', 'constructor', 'toString', 'hasOwnProperty',
  'Content-Length: 12\r\n\r\n{"a":1}', '../../../../etc/passwd', '..', '.', '/', 'C:\\Windows\\win.ini', '%s%n%x', '${x}',
  'null', 'true', '{}', '[]', 'wasm', 'cpu', 'tensorflow-gpu', 'wide', 'all', 'mlp', 'transformer',
];

class Fuzzer {
  constructor(
    readonly rng: Rng,
    private readonly tmp: string,
  ) {}

  string(maxLength = 40): string {
    const rng = this.rng;
    switch (rng.int(4)) {
      case 0:
        return rng.pick(INTERESTING_STRINGS);
      case 1: {
        let s = '';
        const n = rng.int(maxLength);
        for (let i = 0; i < n; i++) s += String.fromCharCode(rng.range(32, 126));
        return s;
      }
      case 2: {
        let s = '';
        const n = rng.int(maxLength);
        for (let i = 0; i < n; i++) s += String.fromCharCode(rng.int(0x10000));
        return s;
      }
      default:
        return rng.pick(INTERESTING_STRINGS) + rng.int(1000);
    }
  }

  number(): number | string {
    const rng = this.rng;
    switch (rng.int(4)) {
      case 0:
        return rng.pick(INTERESTING_NUMBERS);
      case 1:
        return raw(rng.pick(NUMBER_TOKENS));
      case 2:
        return rng.range(-5, 100);
      default:
        return (rng.next() - 0.5) * 10 ** rng.int(20);
    }
  }

  json(depth = 0): unknown {
    const rng = this.rng;
    switch (rng.int(depth >= 3 ? 5 : 7)) {
      case 0:
        return null;
      case 1:
        return rng.chance(0.5);
      case 2:
        return this.number();
      case 3:
      case 4:
        return this.string();
      case 5:
        return Array.from({ length: rng.int(5) }, () => this.json(depth + 1));
      default: {
        const object: Record<string, unknown> = {};
        for (let i = rng.int(5); i > 0; i--) object[this.string(12)] = this.json(depth + 1);
        return object;
      }
    }
  }

  hugeString(): string {
    const n = this.rng.pick([64 * 1024, 256 * 1024, 1 * MB, 3 * MB]);
    return this.rng.pick(['a', 'é', '\\', '"', '\u2028', 'Content-Length: 5\r\n\r\n']).repeat(Math.ceil(n / 8)).slice(0, n);
  }

  deep(): string {
    return raw(`DEEP${this.rng.pick(['[', '{'])}:${this.rng.pick([100, 1000, 10_000, 100_000])}`);
  }

  /** A value of the wrong type (or an odd one of the right type) for any field. */
  wrongValue(): unknown {
    const rng = this.rng;
    switch (rng.int(10)) {
      case 0:
        return null;
      case 1:
        return rng.chance(0.5);
      case 2:
        return this.number();
      case 3:
        return this.string();
      case 4:
        return [];
      case 5:
        return {};
      case 6:
        return this.json();
      case 7:
        return rng.chance(0.3) ? this.hugeString() : this.string(2000);
      case 8:
        return this.deep();
      default:
        return [this.json(), this.json()];
    }
  }

  /** A path inside the temporary folder; `area` keeps created experiments apart from startStage paths. */
  path(area: string, name = this.string(30)): string {
    const safe = name.replace(/\.\.|[\\/:\u0000]/g, '_') || 'empty';
    return join(this.tmp, area, safe);
  }

  id(): unknown {
    const rng = this.rng;
    // Never small non-negative integers: the test's own client numbers its requests from 0.
    switch (rng.int(8)) {
      case 0:
        return -rng.range(1, 1e9);
      case 1:
        return rng.pick([2 ** 31, 2 ** 53, 2 ** 64, 1e308, -(2 ** 63)]) + rng.int(1000) * 1e6;
      case 2:
        return raw(rng.pick(['1e400', '-1e400', '-0', '1.5e3000', '0.000001']));
      case 3:
        return rng.next() * 1000 + 1e7 + 0.5;
      case 4:
        return null;
      case 5:
        return this.wrongValue();
      default:
        return `fuzz-${this.string(20)}`;
    }
  }
}

// ---------- valid templates of every request and notification ----------

type Template = (f: Fuzzer) => Record<string, unknown>;

/** Fields holding file or folder paths: replacements stay inside the temporary folder. */
const PATH_FIELDS = new Set(['path', 'experimentPath', 'runsDir', 'destination', 'dataPath']);

function requestTemplates(examples: { path: string; text: string }[], documentUris: string[]): Record<string, Template> {
  const runId = (f: Fuzzer) => f.rng.pick(['quickstart-20240101-000000', f.string(20), '../..', 'a/../../b', '']);
  const example = (f: Fuzzer) => f.rng.pick(examples);
  const experimentText = (f: Fuzzer) => {
    const rng = f.rng;
    const source = example(f).text;
    if (rng.chance(0.3)) return source;
    if (rng.chance(0.3)) return source.slice(0, rng.int(source.length));
    // Mutate one field of the parsed experiment.
    const parsed = JSON.parse(source) as Record<string, Record<string, unknown>>;
    const section = rng.pick(Object.keys(parsed));
    const target = parsed[section];
    if (target && typeof target === 'object' && !Array.isArray(target) && rng.chance(0.7)) {
      const key = rng.pick([...Object.keys(target), f.string(10)]);
      if (rng.chance(0.2)) delete target[key];
      else target[key] = f.wrongValue();
    } else {
      parsed[section] = f.wrongValue() as Record<string, unknown>;
    }
    return serialise(parsed);
  };
  const textPosition = (f: Fuzzer) => ({
    textDocument: { uri: f.rng.pick(documentUris) },
    position: { line: f.rng.int(40), character: f.rng.int(40) },
  });
  return {
    'gowide/engineInfo': (f) => ({ refresh: f.rng.chance(0.02) }),
    'gowide/selectBackend': (f) => ({ backend: f.rng.pick(BACKEND_NAMES) }),
    'gowide/validateExperiment': (f) => ({ path: f.rng.chance(0.5) ? example(f).path : f.path('missing'), text: experimentText(f) }),
    'gowide/netSizes': (f) => ({ path: f.rng.chance(0.5) ? example(f).path : f.path('missing'), text: experimentText(f) }),
    'gowide/createExperiment': (f) => ({
      path: f.path('created', `${f.string(10)}.gowide.json`),
      name: f.string(20),
      family: f.rng.pick(['mlp', 'cnn', 'resnet', 'transformer']),
      depth: f.rng.range(1, 12),
      width: f.rng.range(1, 64),
      dataFormat: f.rng.pick(['shapes', 'idx', 'csv', 'mnist', f.string(10)]),
      dataPath: f.path('data'),
      widenFactor: f.rng.range(1, 8),
      overwrite: f.rng.chance(0.5),
    }),
    'gowide/startStage': (f) => ({
      experimentPath: f.path('missing', `${f.string(10)}.gowide.json`),
      stage: f.rng.pick(['wide', 'imitate', 'finetune', 'baselines', 'all']),
      runId: runId(f),
      resume: f.rng.chance(0.5),
      backend: f.rng.pick(BACKEND_NAMES),
      runsDir: f.path('runs'),
      wait: f.rng.chance(0.5),
    }),
    'gowide/startSweep': (f) => ({
      experimentPath: f.path('missing', `${f.string(10)}.gowide.json`),
      stage: f.rng.pick(['wide', 'imitate', 'finetune', 'baselines', 'all']),
      resume: f.rng.chance(0.5),
      backend: f.rng.pick(BACKEND_NAMES),
      runsDir: f.path('runs'),
      wait: f.rng.chance(0.5),
    }),
    'gowide/sweepResults': (f) => ({ experimentPath: f.path('missing'), runsDir: f.path('runs') }),
    'gowide/stop': (f) => ({ runId: runId(f) }),
    'gowide/listRuns': (f) => ({ experimentPath: f.path('missing'), runsDir: f.path('runs') }),
    'gowide/getMetrics': (f) => ({ runId: runId(f), runsDir: f.path('runs'), afterSeq: f.rng.range(-2, 100) }),
    'gowide/deleteRun': (f) => ({ runId: runId(f), runsDir: f.path('runs'), experimentPath: f.path('missing') }),
    'gowide/exportModel': (f) => ({
      runId: runId(f),
      runsDir: f.path('runs'),
      experimentPath: f.path('missing'),
      destination: f.path('export'),
      overwrite: f.rng.chance(0.5),
    }),
    // The editor side of the sidecar (language server requests).
    'textDocument/hover': textPosition,
    'textDocument/codeLens': (f) => ({ textDocument: { uri: f.rng.pick(documentUris) } }),
    'textDocument/inlayHint': (f) => ({
      textDocument: { uri: f.rng.pick(documentUris) },
      range: { start: { line: 0, character: 0 }, end: { line: f.rng.int(100), character: 0 } },
    }),
    initialize: (f) => ({
      processId: process.pid,
      rootUri: null,
      capabilities: f.rng.chance(0.5) ? {} : f.json(),
      initializationOptions: { backend: f.rng.pick([...BACKEND_NAMES, 'auto']) },
    }),
  };
}

function notificationTemplates(examples: { path: string; text: string }[], documentUris: string[]): Record<string, Template> {
  const uri = (f: Fuzzer) => f.rng.pick(documentUris);
  return {
    '$/cancelRequest': (f) => ({ id: f.id() }),
    '$/setTrace': (f) => ({ value: f.rng.pick(['off', 'messages', 'verbose', f.string(10)]) }),
    '$/logTrace': (f) => ({ message: f.string() }),
    '$/progress': (f) => ({ token: f.string(10), value: f.json() }),
    initialized: () => ({}),
    'textDocument/didOpen': (f) => ({
      // Small texts and a small pool of URIs: open documents are legitimately kept in memory.
      textDocument: { uri: uri(f), languageId: 'json', version: f.rng.int(1000), text: f.rng.pick(examples).text.slice(0, f.rng.range(0, 4000)) },
    }),
    'textDocument/didChange': (f) => ({
      textDocument: { uri: uri(f), version: f.rng.int(1000) },
      contentChanges: [{ text: f.string(200) }],
    }),
    'textDocument/didClose': (f) => ({ textDocument: { uri: uri(f) } }),
    'textDocument/didSave': (f) => ({ textDocument: { uri: uri(f) } }),
    'workspace/didChangeConfiguration': (f) => ({ settings: f.json() }),
    'gowide/log': (f) => ({ level: 'info', message: f.string() }),
    'gowide/progress': (f) => ({ runId: f.string(), fraction: f.number() }),
  };
}

// ---------- input generators ----------

interface FuzzInput {
  kind: string;
  /** Written one after another (a header split from its body, for instance). */
  chunks: Buffer[];
  /** Leaves the reader inside an unfinished header, which would (correctly) swallow the next header. */
  partialHeader?: boolean;
}

function mutateParams(f: Fuzzer, params: Record<string, unknown>): unknown {
  const rng = f.rng;
  const keys = Object.keys(params);
  switch (rng.int(10)) {
    case 0: // field deletion
      if (keys.length) delete params[rng.pick(keys)];
      return params;
    case 1: // all fields deleted
      return {};
    case 2: // params of the wrong type
      return rng.pick<unknown>([null, [], [params], 'params', 7, true, raw('NaN'), f.deep()]);
    case 3: // extra fields
      params[rng.pick(['__proto__', 'constructor', f.string(10)])] = f.wrongValue();
      return params;
    case 4: // a huge string in a field
      if (keys.length) {
        const key = rng.pick(keys);
        params[key] = PATH_FIELDS.has(key) ? f.path('huge', f.hugeString().slice(0, rng.pick([200, 5000, 100_000]))) : f.hugeString();
      }
      return params;
    case 5: // a NaN-like number in a field
      if (keys.length) params[rng.pick(keys)] = raw(rng.pick(NUMBER_TOKENS));
      return params;
    case 6: // deep nesting in a field
      if (keys.length) params[rng.pick(keys)] = f.deep();
      return params;
    default: // one to three fields of the wrong type (string replacements of paths stay in the temporary folder)
      for (let i = rng.range(1, 3); i > 0 && keys.length; i--) {
        const key = rng.pick(keys);
        const value = f.wrongValue();
        params[key] = PATH_FIELDS.has(key) && typeof value === 'string' ? f.path('wrong', value.slice(0, 200)) : value;
      }
      return params;
  }
}

function message(f: Fuzzer, method: string, params: unknown, request: boolean): Record<string, unknown> {
  const rng = f.rng;
  const m: Record<string, unknown> = { jsonrpc: '2.0', method, params };
  if (request) m.id = f.id();
  if (rng.chance(0.1)) {
    switch (rng.int(5)) {
      case 0:
        m.jsonrpc = rng.pick<unknown>(['1.0', 2, null, '2.0 ', raw('2.0')]);
        break;
      case 1:
        delete m[rng.pick(['jsonrpc', 'method', 'params', 'id'])];
        break;
      case 2:
        m.method = rng.pick<unknown>([method.toUpperCase(), `${method}/`, ` ${method}`, 7, null, [method]]);
        break;
      case 3:
        m.result = f.json();
        break;
      default:
        m.error = { code: f.number(), message: f.string() };
    }
  }
  return m;
}

function badFraming(f: Fuzzer, validBody: string): FuzzInput {
  const rng = f.rng;
  const body = Buffer.from(validBody, 'utf8');
  const header = (text: string) => Buffer.from(text, 'latin1');
  const kinds: (() => FuzzInput)[] = [
    () => ({ kind: 'frame:no-content-length', chunks: [header('Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n'), body] }),
    () => ({ kind: 'frame:duplicate-length', chunks: [header(`Content-Length: ${body.length}\r\nContent-Length: ${rng.int(body.length * 2)}\r\n\r\n`), body] }),
    () => ({ kind: 'frame:negative-length', chunks: [header(`Content-Length: -${rng.range(1, body.length)}\r\n\r\n`), body] }),
    () => ({
      kind: 'frame:non-numeric-length',
      chunks: [header(`Content-Length: ${rng.pick(['abc', '1e3', '0x20', '', '12abc', '+12', '12.0', '\u0661\u0662', 'NaN', 'Infinity', '-0'])}\r\n\r\n`), body],
    }),
    () => ({
      kind: 'frame:huge-length',
      chunks: [header(`Content-Length: ${rng.pick(['9'.repeat(rng.range(10, 400)), String(2 ** 53), String(32 * MB + 1), String(4 * 1024 * MB)])}\r\n\r\n`), body],
    }),
    () => ({ kind: 'frame:length-beyond-body', chunks: [header(`Content-Length: ${body.length + rng.pick([1, 100, 30 * MB - body.length])}\r\n\r\n`), body] }),
    () => ({ kind: 'frame:length-short-of-body', chunks: [framed(body, rng.int(body.length))] }),
    () => ({ kind: 'frame:lf-only-header', chunks: [header(`Content-Length: ${body.length}\n\n`), body] }),
    () => ({ kind: 'frame:header-without-blank-line', chunks: [header(`Content-Length: ${body.length}\r\n`), body], partialHeader: true }),
    () => ({ kind: 'frame:header-only', chunks: [header(rng.pick([`Content-Length: ${body.length}`, `Content-Length: ${body.length}\r\n`, 'Content-Len', 'X-Foo: bar\r\n']))], partialHeader: true }),
    () => ({ kind: 'frame:truncated-body', chunks: [framed(body.subarray(0, rng.int(body.length)), body.length)] }),
    () => {
      const broken = Buffer.from(body);
      for (let i = rng.range(1, 4); i > 0; i--) {
        broken.set(rng.pick([[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf], [0x80]]), rng.int(Math.max(1, broken.length - 5)));
      }
      return { kind: 'frame:invalid-utf8', chunks: [framed(broken)] };
    },
    () => {
      // Content-Length counted in characters, not bytes (a classic client bug).
      const text = validBody.replace(/"jsonrpc"/, '"é✓😀":"é✓😀","jsonrpc"');
      return { kind: 'frame:length-in-characters', chunks: [framed(text, text.length)] };
    },
    () => ({ kind: 'frame:malformed-header-line', chunks: [header(`Content-Length: ${body.length}\r\n${rng.pick(['Bad Header', ': empty-name', 'X\u0000Y: 1', 'é: 1'])}\r\n\r\n`), body] }),
    () => ({ kind: 'frame:header-over-8KB', chunks: [header(`X-Pad: ${'a'.repeat(rng.range(8 * 1024, 40 * 1024))}`)], partialHeader: false }),
    () => ({ kind: 'frame:leading-zeros-and-spaces', chunks: [header(`content-length   :   ${String(body.length).padStart(8, '0')}  \r\n\r\n`), body] }),
    () => ({ kind: 'frame:zero-length', chunks: [header('Content-Length: 0\r\n\r\n')] }),
    () => ({ kind: 'frame:bom-body', chunks: [framed(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]))] }),
    () => {
      // Header and body written separately, the header itself split.
      const full = framed(body);
      const cut = rng.range(1, 30);
      return { kind: 'frame:split-writes', chunks: [full.subarray(0, cut), full.subarray(cut)] };
    },
    () => {
      // Many small bad frames in one write: the reader must not slow down quadratically.
      const parts: Buffer[] = [];
      const n = rng.pick([50, 500, 3000]);
      for (let i = 0; i < n; i++) parts.push(header(rng.pick(['Content-Length: x\r\n\r\n', 'Content-Length: 2\r\n\r\n{]', 'Content-Length: -1\r\n\r\n', 'Nope\r\n\r\n'])));
      return { kind: 'frame:many-bad-frames-in-one-write', chunks: [Buffer.concat(parts)] };
    },
  ];
  return rng.pick(kinds)();
}

/** About a megabyte of one small bad frame repeated: every bad frame must not cost a reply each. */
function flood(f: Fuzzer): FuzzInput {
  const unit = f.rng.pick([
    'Content-Length: x\r\n\r\n',
    'Content-Length: 2\r\n\r\n{]',
    'Nope: 1\r\n\r\n',
    'Content-Length: 5\r\n',
    framed('[1]').toString('latin1'),
    framed('{"jsonrpc":"2.0","id":-7}').toString('latin1'),
  ]);
  return { kind: 'flood-1MB-of-bad-frames', chunks: [Buffer.from(unit.repeat(Math.ceil(MB / unit.length)), 'latin1')], partialHeader: unit.endsWith('5\r\n') };
}

function nextInput(f: Fuzzer, requests: Record<string, Template>, notifications: Record<string, Template>): FuzzInput {
  const rng = f.rng;
  const requestMethods = Object.keys(requests);
  const notificationMethods = Object.keys(notifications);
  const validRequestBody = () => {
    const method = rng.pick(requestMethods);
    return serialise({ jsonrpc: '2.0', id: `fuzz-${rng.int(1e6)}`, method, params: requests[method]!(f) });
  };
  const roll = rng.int(100);
  if (roll < 8) {
    const n = rng.chance(0.9) ? rng.range(1, 512) : rng.range(512, 64 * 1024);
    return { kind: 'random-bytes', chunks: [rng.bytes(n)] };
  }
  if (roll < 12) {
    // Printable noise with CR/LF and header fragments, which exercises the header parser harder.
    let s = '';
    for (let i = rng.range(1, 60); i > 0; i--) s += rng.pick(['Content-Length', ':', ' ', '\r\n', '\r\n\r\n', '12', '-', 'x', '{', '"', f.string(8)]);
    return { kind: 'random-header-text', chunks: [Buffer.from(s, 'latin1')] };
  }
  if (roll < 22) return { kind: 'random-json', chunks: [framed(serialise(f.json()))] };
  if (roll < 57) {
    const method = rng.pick(requestMethods);
    const body = serialise(message(f, method, mutateParams(f, requests[method]!(f)), true));
    return { kind: `request:${method}`, chunks: [framed(body)] };
  }
  if (roll < 62) {
    // Valid requests (valid params too): the handlers run for real on paths that do not exist.
    return { kind: 'valid-request', chunks: [framed(validRequestBody())] };
  }
  if (roll < 67) {
    const method = rng.pick(['gowide/doesNotExist', 'gowide/', '', '/', 'rpc.discover', 'textDocument/definition', '__proto__', 'constructor', 'hasOwnProperty', f.string(30)]);
    // exit and shutdown are real LSP methods that end the server; they are not garbage.
    const safe = method === 'exit' || method === 'shutdown' ? 'not-exit' : method;
    const request = rng.chance(0.6);
    return { kind: request ? 'unknown-method' : 'unknown-notification', chunks: [framed(serialise(message(f, safe, f.json(), request)))] };
  }
  if (roll < 77) {
    const method = rng.pick(notificationMethods);
    const params = rng.chance(0.5) ? mutateParams(f, notifications[method]!(f)) : rng.chance(0.5) ? f.json() : undefined;
    const m = message(f, method, params, false);
    if (params === undefined) delete m.params;
    return { kind: `notification:${method}`, chunks: [framed(serialise(m))] };
  }
  if (roll < 80) {
    const items = Array.from({ length: rng.range(0, 20) }, () => {
      const method = rng.pick(requestMethods);
      return message(f, method, requests[method]!(f), rng.chance(0.8));
    });
    return { kind: 'batch', chunks: [framed(serialise(items))] };
  }
  if (roll < 97) return badFraming(f, validRequestBody());
  if (roll < 99) {
    // Responses nobody asked for.
    const response = rng.chance(0.5) ? { jsonrpc: '2.0', id: f.id(), result: f.json() } : { jsonrpc: '2.0', id: f.id(), error: { code: f.number(), message: f.string(), data: f.json() } };
    return { kind: 'stray-response', chunks: [framed(serialise(response))] };
  }
  // A big but well-framed body (around the 4 MB limit, MAX_MESSAGE_BYTES): junk text or a request with a huge string.
  const big = rng.chance(0.5)
    ? serialise({ jsonrpc: '2.0', id: `fuzz-big-${rng.int(1e6)}`, method: 'gowide/validateExperiment', params: { path: f.path('missing'), text: 'x'.repeat(rng.pick([1, 4]) * MB) } })
    : '['.repeat(rng.pick([0.25, 1]) * MB);
  return { kind: 'big-body', chunks: [framed(big)] };
}

// ---------- the sidecar's memory ----------

function memoryOf(pid: number): { rss: number; hwm: number } {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    // Gone: the exit handler reports why.
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} was not answered within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function gitStatus(): string {
  try {
    return execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: repoRoot, encoding: 'utf8' });
  } catch {
    return '(no git)';
  }
}

test(`the sidecar survives ${INPUTS} malformed and mutated JSON-RPC inputs (seed ${SEED})`, { timeout: 180_000 }, async (t) => {
  const started = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), 'gowide-fuzz-'));
  const repoBefore = gitStatus();
  const examples = ['quickstart', 'fashion-mnist-mlp', 'fashion-mnist-cnn'].map((name) => {
    const path = join(repoRoot, 'examples', `${name}.gowide.json`);
    return { path, text: readFileSync(path, 'utf8') };
  });
  const documentUris = [
    ...Array.from({ length: 8 }, (_, i) => pathToFileURL(join(tmp, 'docs', `doc${i}.gowide.json`)).href),
    pathToFileURL(examples[0]!.path).href,
    'file:///nonexistent/x.gowide.json',
    'untitled:Untitled-1',
    'not a uri',
  ];
  const requests = requestTemplates(examples, documentUris);
  const notifications = notificationTemplates(examples, documentUris);
  const fuzzer = new Fuzzer(new Rng(SEED), tmp);

  const sidecar: SidecarUnderTest = startBuiltSidecar();
  const pid = sidecar.child.pid!;
  let stdinError: Error | undefined;
  sidecar.child.stdin.on('error', (error) => (stdinError = error));
  let exited: string | undefined;
  sidecar.child.once('exit', (code, signal) => {
    exited = `the sidecar exited (code ${code}, signal ${signal}) after input ${inputsSent}; stderr:\n${sidecar.stderr().slice(-3000)}\nlast error logs:\n${sidecar.logs
      .filter((l) => l.level === 'error')
      .slice(-3)
      .map((l) => l.message.slice(0, 1500))
      .join('\n')}`;
  });
  let inputsSent = 0;
  try {
    await sidecar.initialize();
    await sidecar.connection.sendRequest(EngineInfoRequest, {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    const afterInitialize = memoryOf(pid);

    const kinds = new Map<string, number>();
    let bytesSent = 0;
    let probesSent = 0;
    let probesAnswered = 0;
    let probeFlushes = 0;
    const rssSamples: number[] = [];
    let slowestProbeMs = 0;
    const probeFailures: string[] = [];
    let peakRss = afterInitialize.rss;

    const probe = async (label: string) => {
      probesSent++;
      const t0 = Date.now();
      try {
        const info = await withTimeout(sidecar.connection.sendRequest(EngineInfoRequest, {}), PROBE_TIMEOUT_MS, `probe ${label}`);
        assert.ok(BACKEND_NAMES.includes(info.active), `probe ${label}: active backend ${String(info.active)}`);
        probesAnswered++;
      } catch (error) {
        probeFailures.push(`${label}: ${(error as Error).message}`);
      }
      slowestProbeMs = Math.max(slowestProbeMs, Date.now() - t0);
      const rss = memoryOf(pid).rss;
      rssSamples.push(Math.round(rss / MB));
      peakRss = Math.max(peakRss, rss);
    };

    let last: FuzzInput | undefined;
    for (let i = 1; i <= INPUTS; i++) {
      const input = i % 1000 === 500 ? flood(fuzzer) : nextInput(fuzzer, requests, notifications);
      kinds.set(input.kind, (kinds.get(input.kind) ?? 0) + 1);
      inputsSent = i;
      if (exited) break;
      for (const chunk of input.chunks) {
        await sidecar.writeRaw(chunk);
        bytesSent += chunk.length;
      }
      last = input;
      if (i % PROBE_EVERY === 0) {
        // A header cut off before its blank line makes the next header part of it: no reader can tell
        // them apart, so end it first, as a client that wrote half a message would have to.
        if (last.partialHeader) {
          await sidecar.writeRaw('\r\n\r\n');
          probeFlushes++;
        }
        await probe(`after input ${i} (${last.kind})`);
        assert.equal(exited, undefined);
      }
    }

    assert.equal(exited, undefined);
    // The end: a valid request is answered, the process is alive, memory is bounded.
    if (last?.partialHeader) {
      await sidecar.writeRaw('\r\n\r\n');
      probeFlushes++;
    }
    await probe('at the end');
    const validation = await withTimeout(
      sidecar.connection.sendRequest(ValidateExperimentRequest, { path: examples[0]!.path }),
      PROBE_TIMEOUT_MS * 2,
      'the final validateExperiment',
    );
    assert.equal(validation.ok, true, JSON.stringify(validation.problems));
    const fuzzSeconds = (Date.now() - started) / 1000;
    // V8 collects lazily: right after the fuzz the heap still holds garbage from the big bodies. Once the
    // sidecar is idle its memory reducer runs (about 8 s later); a leak would keep RSS above the bound.
    const bound = 2 * afterInitialize.rss + 100 * MB;
    const settleStarted = Date.now();
    let atEnd = memoryOf(pid);
    while (atEnd.rss >= bound && Date.now() - settleStarted < SETTLE_MS) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      atEnd = memoryOf(pid);
    }
    const settleSeconds = (Date.now() - settleStarted) / 1000;
    peakRss = Math.max(peakRss, atEnd.rss);
    const elapsed = (Date.now() - started) / 1000;

    const byKind = [...kinds.entries()].sort((a, b) => b[1] - a[1]);
    t.diagnostic(`seed ${SEED}: ${INPUTS} inputs, ${mb(bytesSent)} sent in ${fuzzSeconds.toFixed(1)} s (${elapsed.toFixed(1)} s with the memory check)`);
    t.diagnostic(`inputs by kind: ${byKind.map(([kind, n]) => `${kind} ${n}`).join(', ')}`);
    t.diagnostic(
      `probes answered: ${probesAnswered}/${probesSent} (slowest ${slowestProbeMs} ms; ${probeFlushes} after a cut-off header ended with CRLF CRLF)`,
    );
    t.diagnostic(
      `sidecar RSS: ${mb(afterInitialize.rss)} after initialize, ${mb(peakRss)} peak sampled, VmHWM ${mb(atEnd.hwm)}, ` +
        `${mb(atEnd.rss)} settled ${settleSeconds.toFixed(1)} s after the fuzz (bound ${mb(bound)})`,
    );
    t.diagnostic(`sidecar RSS at each probe (MB): ${rssSamples.join(' ')}`);
    t.diagnostic(`error responses without id (ParseError/InvalidRequest): ${sidecar.idlessErrors.length}`);

    assert.deepEqual(probeFailures, [], 'every probe is answered');
    assert.equal(stdinError, undefined, 'the sidecar kept reading its stdin');
    assert.equal(exited, undefined);
    assert.equal(sidecar.child.exitCode, null, 'the sidecar is still running');
    assert.doesNotMatch(sidecar.stderr(), /uncaught exception/);
    assert.ok(atEnd.rss < bound, `sidecar RSS ${mb(atEnd.rss)} ${settleSeconds.toFixed(1)} s after the fuzz; bound ${mb(bound)} (2 x ${mb(afterInitialize.rss)} + 100 MB)`);
    // Transient peaks: bodies up to 4 MB (JSON.parse of a megabyte of "[" alone takes about 50 MB) and lazy collection.
    const peakBound = afterInitialize.rss + PEAK_HEADROOM;
    assert.ok(atEnd.hwm < peakBound, `sidecar VmHWM ${mb(atEnd.hwm)}; bound ${mb(peakBound)} (${mb(afterInitialize.rss)} + ${mb(PEAK_HEADROOM)})`);
    assert.equal(gitStatus(), repoBefore, 'the fuzz wrote nothing into the repository');
  } finally {
    await sidecar.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the cases the fuzz found stay fixed', { timeout: 60_000 }, async (t) => {
  const sidecar = startBuiltSidecar();
  const waitFor = async (what: string, condition: () => boolean, ms = 3000) => {
    const until = Date.now() + ms;
    while (!condition()) {
      assert.ok(Date.now() < until, `timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const logged = (pattern: RegExp) => sidecar.logs.some((l) => pattern.test(l.message));
  try {
    await sidecar.initialize();
    await sidecar.connection.sendRequest(EngineInfoRequest, {});

    await t.test('a second initialize naming a process that does not exist is refused, and the sidecar stays up', async () => {
      await assert.rejects(
        sidecar.connection.sendRequest('initialize', { ...initializeParams, processId: 2 ** 31 }),
        (error: unknown) => error instanceof ResponseError && error.code === -32600 && /already received/.test(error.message),
      );
      // vscode-languageserver's watchdog would have checked the process after 3 s and exited.
      await new Promise((resolve) => setTimeout(resolve, 3500));
      assert.equal(sidecar.child.exitCode, null);
      await sidecar.connection.sendRequest(EngineInfoRequest, {});
    });

    await t.test('a $/cancelRequest without an id does not drop the message written behind it', async () => {
      await sidecar.writeRaw(
        Buffer.concat([
          frame({ jsonrpc: '2.0', method: '$/cancelRequest' }),
          frame({ jsonrpc: '2.0', method: '$/cancelRequest', params: {} }),
          frame({ jsonrpc: '2.0', method: 'gowide/behindTheCancel' }),
        ]),
      );
      await waitFor('the notification behind the cancel', () => logged(/ignored unknown notification gowide\/behindTheCancel/));
      assert.ok(logged(/\$\/cancelRequest needs params\.id/));
      assert.ok(!logged(/reading stdin failed/), 'the reader did not fail');
    });

    await t.test('a didOpen without a uri is refused instead of poisoning the open documents', async () => {
      await sidecar.writeRaw(frame({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { languageId: 'json', version: 1, text: '{}' } } }));
      await waitFor('the refusal', () => logged(/didOpen needs params\.textDocument\.uri/));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.ok(!sidecar.logs.some((l) => /TypeError/.test(l.message)), 'no handler threw');
    });

    await t.test('a megabyte of small bad frames is skipped quickly, with a bounded number of replies', async () => {
      const before = sidecar.idlessErrors.length;
      const started = Date.now();
      await sidecar.writeRaw('Content-Length: x\r\n\r\n'.repeat(50_000));
      await sidecar.connection.sendRequest(EngineInfoRequest, {});
      const ms = Date.now() - started;
      const replies = sidecar.idlessErrors.length - before;
      t.diagnostic(`50,000 bad frames: next request answered after ${ms} ms; ${replies} ParseError replies`);
      assert.ok(ms < 3000, `answered after ${ms} ms`);
      assert.ok(replies <= 200, `${replies} replies`);
    });
  } finally {
    await sidecar.stop();
  }
});
