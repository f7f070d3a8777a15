// The JSON Schema (what VS Code validates and completes) and resolveExperiment (what runs) must agree:
// the same fields, the same defaults, and the same enums and bounds.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WIDE_EPOCHS_PER_THIN_EPOCH } from '../../server/experiment/defaults';
import { knownFieldPaths, resolveExperiment } from '../../server/experiment/resolve';

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  description?: string;
  $ref?: string;
  /** A value of either kind (imitate.groups: a name or a whole number). */
  oneOf?: SchemaNode[];
}

const schema = JSON.parse(readFileSync(join(__dirname, '../../server/experiment/gowide.schema.json'), 'utf8')) as SchemaNode & { definitions: Record<string, SchemaNode> };

function deref(node: SchemaNode): SchemaNode {
  if (!node.$ref) return node;
  return schema.definitions[node.$ref.replace('#/definitions/', '')];
}

/** Every property path in the schema with its node (sections and leaves). */
function schemaFields(node: SchemaNode = schema, prefix = ''): [string, SchemaNode][] {
  return Object.entries(node.properties ?? {}).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    const resolved = deref(child);
    return [[path, resolved] as [string, SchemaNode], ...schemaFields(resolved, path)];
  });
}

const FILE = '/tmp/schema-test.gowide.json';
const base = () => ({ name: 't', data: { format: 'shapes' } as Record<string, unknown>, model: { family: 'mlp' } as Record<string, unknown> });

function withValue(path: string, value: unknown): Record<string, unknown> {
  const raw: Record<string, unknown> = base();
  const keys = path.split('.');
  let node = raw;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys[keys.length - 1]] = value;
  return raw;
}

function valueAt(object: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], object);
}

function errorFields(raw: unknown): string[] {
  return resolveExperiment(raw, FILE).problems.filter((p) => p.severity === 'error').map((p) => p.field);
}

const leaves = schemaFields().filter(([, node]) => !node.properties);
/** Each kind of value a leaf takes (its oneOf branches, or the leaf itself), and whether another
 *  kind takes any string (data.labelColumn: a column name or an index). */
const kinds = leaves.flatMap(([path, node]): [string, SchemaNode, boolean][] => {
  const anyString = (node.oneOf ?? []).some((kind) => kind.type === 'string' && !kind.enum);
  return (node.oneOf ?? [node]).map((kind) => [path, kind, anyString]);
});

describe('JSON Schema and resolveExperiment agree', () => {
  it('every schema property is known to resolve, and every field resolve reads is in the schema', () => {
    const inSchema = schemaFields().map(([path]) => path).sort();
    assert.deepEqual(inSchema, knownFieldPaths());
  });

  it('every schema property has a description', () => {
    for (const [path, node] of schemaFields()) assert.ok(node.description, `${path} lacks a description`);
  });

  it('schema defaults are the values resolve fills in (mlp)', () => {
    const resolved = resolveExperiment(base(), FILE).experiment!;
    const withDefaults = leaves.filter(([, node]) => node.default !== undefined);
    assert.ok(withDefaults.length > 30);
    for (const [path, node] of withDefaults) assert.deepEqual(valueAt(resolved, path), node.default, path);
  });

  it('the wide net\'s default epochs are WIDE_EPOCHS_PER_THIN_EPOCH x the thin budget, rounded up, as the schema says', () => {
    const wideEpochs = (depth: number, epochsPerLayer: number, finetuneEpochs: number) =>
      resolveExperiment({ ...base(), model: { family: 'mlp', depth }, imitate: { epochsPerLayer }, finetune: { epochs: finetuneEpochs } }, FILE).experiment!.wide.epochs;
    assert.equal(wideEpochs(12, 0.5, 6), WIDE_EPOCHS_PER_THIN_EPOCH * 12);
    assert.equal(wideEpochs(3, 0.25, 1), Math.ceil(WIDE_EPOCHS_PER_THIN_EPOCH * 1.75));
    const [, wide] = schemaFields().find(([path]) => path === 'wide.epochs')!;
    assert.match(wide.description!, new RegExp(`Default: ${WIDE_EPOCHS_PER_THIN_EPOCH} x \\(model\\.depth x imitate\\.epochsPerLayer \\+ finetune\\.epochs\\)`));
    const explicit = resolveExperiment({ ...base(), wide: { epochs: 5 } }, FILE).experiment!;
    assert.equal(explicit.wide.epochs, 5);
  });

  it('every enum value is accepted and anything else is an error at that field', () => {
    for (const [path, node] of kinds) {
      const values = node.enum ?? (node.items ? deref(node.items).enum : undefined);
      if (!values) continue;
      const asValue = (v: unknown) => (node.type === 'array' ? [v] : v);
      for (const value of values) assert.ok(!errorFields(withValue(path, asValue(value))).some((f) => f.startsWith(path)), `${path} = ${value}`);
      const bad = errorFields(withValue(path, asValue('no-such-value')));
      assert.ok(bad.some((f) => f.startsWith(path)), `${path} accepts a value outside its enum`);
    }
  });

  it('bounds and types: values the schema rejects, resolve rejects at the same field', () => {
    for (const [path, node, anyString] of kinds) {
      const item = node.type === 'array' && node.items ? deref(node.items) : node;
      if (item.type !== 'number' && item.type !== 'integer' && item.type !== 'boolean') continue;
      const wrap = (v: unknown) => (node.type === 'array' ? [v] : v);
      const rejects = (value: unknown, why: string) =>
        assert.ok(errorFields(withValue(path, wrap(value))).some((f) => f.startsWith(path)), `${path}: ${why} (${JSON.stringify(value)}) was accepted`);
      const accepts = (value: unknown, why: string) =>
        assert.ok(!errorFields(withValue(path, wrap(value))).some((f) => f.startsWith(path)), `${path}: ${why} (${JSON.stringify(value)}) was refused`);
      if (item.type === 'boolean') {
        rejects('yes', 'a string for a boolean');
        continue;
      }
      if (!anyString) rejects('1', 'a string for a number');
      if (item.minimum !== undefined) {
        rejects(item.minimum - 1, 'below minimum');
        if (path !== 'widen.perLayer') accepts(item.minimum, 'the minimum'); // perLayer also needs depth entries
      }
      if (item.exclusiveMinimum !== undefined) rejects(item.exclusiveMinimum, 'at the exclusive minimum');
      if (item.maximum !== undefined) rejects(item.maximum + 1, 'above maximum');
      if (item.type === 'integer') rejects((item.minimum ?? 0) + 1.5, 'a fraction for an integer');
    }
  });

  it('required fields are required by both', () => {
    for (const key of ['name', 'data', 'model']) {
      const raw: Record<string, unknown> = base();
      delete raw[key];
      assert.ok(errorFields(raw).includes(key), `${key} missing was accepted`);
    }
    assert.deepEqual((schema as unknown as { required: string[] }).required, ['name', 'data', 'model']);
  });
});
