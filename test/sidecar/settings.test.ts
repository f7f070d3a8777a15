// The sidecar serves the fine-tuning settings the imitation monitor edits: resolved from the file
// (defaults where it has none), with the schema's ranges. The monitor used to fill absent fields with
// its own defaults (kdWeight 0.5), and Launch Fine-Tuning wrote them into the file, turning
// distillation on for a file that never asked for it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node';
import { DEFAULT_FINETUNE } from '../../server/experiment/defaults';
import { FINETUNE_SETTING_KEYS, FinetuneSettingsRequest } from '../../server/protocol';
import { startBuiltSidecar, type SidecarUnderTest } from './sidecar-process';

let sidecar: SidecarUnderTest;
let dir: string;

function experimentFile(name: string, extra: Record<string, unknown> = {}): string {
  const file = join(dir, `${name}.gowide.json`);
  writeFileSync(file, JSON.stringify({ name, data: { format: 'shapes' }, model: { family: 'mlp', depth: 3, width: 8 }, ...extra }));
  return file;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gowide-settings-'));
  sidecar = startBuiltSidecar();
  await sidecar.initialize();
});

after(async () => {
  await sidecar.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a file without a finetune section gets the resolved defaults (kdWeight 0), with the schema ranges', async () => {
  const { fields } = await sidecar.connection.sendRequest(FinetuneSettingsRequest, { path: experimentFile('plain') });
  assert.deepEqual(fields.map((f) => f.key), [...FINETUNE_SETTING_KEYS]);
  for (const field of fields) {
    assert.equal(field.value, DEFAULT_FINETUNE[field.key], `${field.key} value`);
    assert.equal(field.default, DEFAULT_FINETUNE[field.key], `${field.key} default`);
    assert.ok(field.label.length > 0 && field.description.length > 0);
  }
  const byKey = Object.fromEntries(fields.map((f) => [f.key, f]));
  assert.equal(byKey.kdWeight!.value, 0);
  assert.deepEqual(byKey.kdWeight!.range, { minimum: 0, maximum: 1, integer: false });
  assert.deepEqual(byKey.learningRate!.range, { exclusiveMinimum: 0, maximum: 10, integer: false });
});

test("a file's own values are served as they are", async () => {
  const path = experimentFile('tuned', { finetune: { epochs: 2, kdWeight: 0.3 } });
  const { fields } = await sidecar.connection.sendRequest(FinetuneSettingsRequest, { path });
  const values = Object.fromEntries(fields.map((f) => [f.key, f.value]));
  assert.deepEqual(values, { epochs: 2, kdWeight: 0.3, temperature: DEFAULT_FINETUNE.temperature, learningRate: DEFAULT_FINETUNE.learningRate });
});

test('a broken file is refused with what to fix', async () => {
  const path = experimentFile('broken', { finetune: { kdWeight: 7 } });
  await assert.rejects(sidecar.connection.sendRequest(FinetuneSettingsRequest, { path }), (error: unknown) => {
    assert.ok(error instanceof ResponseError);
    assert.match(error.message, /kdWeight/);
    return true;
  });
});
