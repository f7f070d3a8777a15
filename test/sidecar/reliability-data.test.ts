// Bad data and bad fields are refused before training starts (issue 7), through the real CLI: IDX files
// with a wrong magic number, a truncated body, differing counts or a label out of range, and CSV
// files with a ragged row, a non-numeric feature or a missing label column, each end `gowide run`
// with a message naming the file (and the line), and no run folder is created. Every field of the
// experiment file given a value of the wrong type is refused naming that field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IDX_FILE_NAMES } from '../../server/data/idx';
import { validateExperimentText } from '../../server/experiment';
import { cli, ensureBuilt, quickExperiment, writeExperiment } from './reliability-helpers';

/** An IDX file: magic (0, 0, ubyte 0x08, rank), big-endian dimensions, then bytes. */
function idx(dims: number[], body: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(body)]);
}

function idxFolder(dir: string, name: string, change: (files: Record<string, Buffer>) => void): string {
  const folder = path.join(dir, name);
  fs.mkdirSync(folder);
  const images = (n: number) => idx([n, 8, 8], Uint8Array.from({ length: n * 64 }, (_, i) => (i * 37) % 256));
  const labels = (n: number) => idx([n], Uint8Array.from({ length: n }, (_, i) => i % 10));
  const files: Record<string, Buffer> = {
    [IDX_FILE_NAMES.trainImages]: images(120),
    [IDX_FILE_NAMES.trainLabels]: labels(120),
    [IDX_FILE_NAMES.testImages]: images(30),
    [IDX_FILE_NAMES.testLabels]: labels(30),
  };
  change(files);
  for (const [file, bytes] of Object.entries(files)) fs.writeFileSync(path.join(folder, file), bytes);
  return folder;
}

const experiment = (name: string, data: Record<string, unknown>) => quickExperiment(name, { data: { validationSplit: 0.2, ...data } });

test('corrupt IDX and CSV data end `gowide run` before any run folder exists, naming the file', { timeout: 180_000 }, () => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-rel-data-'));
  try {
    const cases: { name: string; data: Record<string, unknown>; expect: RegExp; names: string }[] = [];
    const addIdx = (name: string, expect: RegExp, file: string, change: (files: Record<string, Buffer>) => void) =>
      cases.push({ name, data: { format: 'idx', path: idxFolder(dir, name, change) }, expect, names: file });
    addIdx('magic', /magic/i, IDX_FILE_NAMES.trainImages, (f) => void (f[IDX_FILE_NAMES.trainImages]![2] = 0x0d));
    addIdx('truncated', /truncated|bytes|short/i, IDX_FILE_NAMES.testImages, (f) => void (f[IDX_FILE_NAMES.testImages] = f[IDX_FILE_NAMES.testImages]!.subarray(0, 500)));
    addIdx('counts', /120|119|count/i, IDX_FILE_NAMES.trainLabels, (f) => void (f[IDX_FILE_NAMES.trainLabels] = idx([119], new Uint8Array(119))));
    addIdx('label', /label/i, IDX_FILE_NAMES.testLabels, (f) => void (f[IDX_FILE_NAMES.testLabels]![8 + 3] = 42));

    const csv = (name: string, text: string, expect: RegExp, extra: Record<string, unknown> = {}) => {
      const file = path.join(dir, `${name}.csv`);
      fs.writeFileSync(file, text);
      cases.push({ name, data: { format: 'csv', path: file, ...extra }, expect, names: `${name}.csv` });
    };
    const rows = (n: number) => Array.from({ length: n }, (_, i) => `${i % 7},${(i * 3) % 5},${i % 2 ? 'a' : 'b'}`);
    csv('ragged', ['x,y,label', ...rows(30), '1,2', ...rows(10)].join('\n'), /line 32/);
    csv('nonnumeric', ['x,y,label', ...rows(20), 'one,2,a', ...rows(10)].join('\n'), /line 22/);
    csv('nolabel', ['x,y,label', ...rows(40)].join('\n'), /species/, { labelColumn: 'species' });

    for (const c of cases) {
      const file = writeExperiment(dir, experiment(c.name, c.data));
      const runsDir = path.join(dir, `runs-${c.name}`);
      const result = spawnSync(process.execPath, [cli, 'run', file, '--runs-dir', runsDir, '--backend', 'wasm', '--json'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      assert.equal(result.status, 1, `${c.name}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, c.expect, `${c.name}: ${result.stderr}`);
      assert.ok(result.stderr.includes(c.names), `${c.name}: the message names ${c.names}: ${result.stderr}`);
      assert.ok(!fs.existsSync(runsDir) || fs.readdirSync(runsDir).length === 0, `${c.name}: no run folder was created`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('every field of the experiment file with a value of the wrong type is refused naming the field', (t) => {
  const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'server', 'experiment', 'gowide.schema.json'), 'utf8'));
  const base = experiment('fields', { format: 'csv', path: '/tmp/fields.csv' });
  const leaves: { field: string; type: string }[] = [];
  const walk = (node: Record<string, any>, prefix: string) => {
    for (const [key, child] of Object.entries<Record<string, any>>(node.properties ?? {})) {
      const field = prefix ? `${prefix}.${key}` : key;
      const resolved = child.$ref ? schema.definitions[child.$ref.split('/').pop()] : child;
      if (resolved.properties) walk(resolved, field);
      else if (field !== '$schema') leaves.push({ field, type: Array.isArray(resolved.type) ? resolved.type[0] : resolved.type ?? (resolved.enum ? 'string' : 'any') });
    }
  };
  walk(schema, ''); // $schema (the editor's pointer to the schema) is not a setting
  assert.ok(leaves.length > 30, `${leaves.length} fields`);
  const wrong = (type: string): unknown => (type === 'string' ? 42 : type === 'array' ? 'not an array' : type === 'object' ? 7 : type === 'any' ? { not: 'a scalar' } : 'not a number');
  const missed: string[] = [];
  for (const { field, type } of leaves) {
    const value = structuredClone(base) as Record<string, any>;
    const keys = field.split('.');
    let at = value;
    for (const key of keys.slice(0, -1)) at = at[key] ??= {};
    at[keys.at(-1)!] = wrong(type);
    const result = validateExperimentText('/tmp/fields.gowide.json', JSON.stringify(value));
    const named = result.problems.some((p) => p.severity !== 'warning' && p.field === field && p.message.length > 0);
    if (!named) missed.push(`${field} (${type}): ${JSON.stringify(result.problems.map((p) => `${p.field}: ${p.message}`))}`);
  }
  assert.deepEqual(missed, [], 'fields whose wrong-typed value was not refused at the field');
  t.diagnostic(`${leaves.length} fields, each refused at its own name`);
});
