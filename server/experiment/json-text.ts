// A strict JSON parser that remembers where every field is, so problems can point at a line and
// column: JSON.parse on Node 20 reports no position at all. Also reports duplicate keys.

export interface TextPosition {
  offset: number;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export interface JsonSyntaxError extends TextPosition {
  message: string;
}

export interface ParsedJson {
  value?: unknown;
  error?: JsonSyntaxError;
  /** Field path ("model.depth", "widen.perLayer[3]") -> where its key (or array element) starts. */
  locations: Map<string, TextPosition>;
  /** Paths of keys that appear twice in the same object (the last one wins, as in JSON.parse). */
  duplicateKeys: string[];
}

class SyntaxFailure extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

/** Converts an offset into a 1-based line and column. */
export function positionAt(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { offset, line, column: offset - lineStart + 1 };
}

export function joinPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

export function parseJsonText(text: string): ParsedJson {
  const offsets = new Map<string, number>();
  const duplicateKeys: string[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const describe = (at: number): string => (at >= text.length ? 'end of file' : JSON.stringify(text[at]));
  const fail = (expected: string): never => {
    throw new SyntaxFailure(i, `expected ${expected} but found ${describe(i)}`);
  };
  const skipSpace = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };

  const parseString = (): string => {
    const start = i;
    i++; // opening quote
    let out = '';
    while (i < text.length) {
      const ch = text[i];
      if (ch === '"') {
        i++;
        return out;
      }
      if (ch === '\\') {
        const esc = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (esc in simple) {
          out += simple[esc];
          i += 2;
        } else if (esc === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          throw new SyntaxFailure(i, `invalid escape sequence in a string`);
        }
      } else if (ch < ' ') {
        throw new SyntaxFailure(i, ch === '\n' ? 'string not closed before the end of the line' : 'control character in a string');
      } else {
        out += ch;
        i++;
      }
    }
    throw new SyntaxFailure(start, 'string is never closed');
  };

  const parseNumber = (): number => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (!match) fail('a value');
    i += match![0].length;
    return Number(match![0]);
  };

  const parseValue = (path: string): unknown => {
    skipSpace();
    if (!offsets.has(path)) offsets.set(path, i);
    const ch = text[i];
    if (ch === '{') return parseObject(path);
    if (ch === '[') return parseArray(path);
    if (ch === '"') return parseString();
    if (ch === '-' || (ch >= '0' && ch <= '9')) return parseNumber();
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return value;
      }
    }
    if (ch === "'") throw new SyntaxFailure(i, 'strings must use double quotes');
    return fail('a value');
  };

  const parseObject = (path: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    i++;
    skipSpace();
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      skipSpace();
      if (text[i] !== '"') fail(text[i] === '}' ? 'another property (no trailing comma allowed)' : 'a property name in double quotes');
      const keyOffset = i;
      const key = parseString();
      const keyPath = joinPath(path, key);
      if (Object.prototype.hasOwnProperty.call(out, key)) duplicateKeys.push(keyPath);
      offsets.set(keyPath, keyOffset);
      skipSpace();
      if (text[i] !== ':') fail('":" after the property name');
      i++;
      out[key] = parseValue(keyPath);
      skipSpace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return out;
      }
      fail('"," or "}" after a property value');
    }
  };

  const parseArray = (path: string): unknown[] => {
    const out: unknown[] = [];
    i++;
    skipSpace();
    if (text[i] === ']') {
      i++;
      return out;
    }
    for (;;) {
      skipSpace();
      if (text[i] === ']') fail('another element (no trailing comma allowed)');
      out.push(parseValue(joinPath(path, out.length)));
      skipSpace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return out;
      }
      fail('"," or "]" after an array element');
    }
  };

  const locations = (): Map<string, TextPosition> =>
    new Map([...offsets].map(([path, offset]) => [path, positionAt(text, offset)]));
  try {
    const value = parseValue('');
    skipSpace();
    if (i < text.length) fail('the end of the file after the top-level value');
    return { value, locations: locations(), duplicateKeys };
  } catch (error) {
    if (!(error instanceof SyntaxFailure)) throw error;
    return { error: { ...positionAt(text, error.offset), message: error.message }, locations: locations(), duplicateKeys };
  }
}

/** Where `fieldPath` is in the parsed text: the field itself, else its closest enclosing field. */
export function locateField(parsed: ParsedJson, fieldPath: string): TextPosition | undefined {
  // A sweep entry's key holds dots: sweep["widen.factor"][2] is stored as sweep.widen.factor[2].
  let path = fieldPath.replace(/\["([^"]*)"\]/g, (_, key: string) => `.${key}`);
  for (;;) {
    const found = parsed.locations.get(path);
    if (found) return found;
    if (!path) return undefined;
    const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
    path = cut < 0 ? '' : path.slice(0, cut);
  }
}
