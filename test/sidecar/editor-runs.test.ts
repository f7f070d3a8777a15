// Explorer actions the sidecar answers for run folders: export the thin model, delete a run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteRunRequest, ExportModelRequest, ListRunsRequest } from '../../server/protocol';
import { startBuiltSidecar, type SidecarUnderTest } from './sidecar-process';
import { RECORDED_RUN_ID, workspaceWithRecordedRun } from './editor-fixture';

let sidecar: SidecarUnderTest;
let workspace: { dir: string; experimentPath: string };

before(async () => {
  workspace = workspaceWithRecordedRun();
  sidecar = startBuiltSidecar();
  await sidecar.initialize();
});

after(async () => {
  await sidecar?.stop();
  if (workspace) rmSync(workspace.dir, { recursive: true, force: true });
});

test('exportModel without a model says when one is written; with one it copies the folder', async () => {
  const ref = { runId: RECORDED_RUN_ID, experimentPath: workspace.experimentPath };
  await assert.rejects(sidecar.connection.sendRequest(ExportModelRequest, { ...ref, destination: join(workspace.dir, 'out') }), /no exported thin model yet/);
  const model = join(workspace.dir, '.gowide-runs', RECORDED_RUN_ID, 'model');
  mkdirSync(model);
  writeFileSync(join(model, 'model.json'), '{"format":"layers-model"}');
  writeFileSync(join(model, 'weights.bin'), Buffer.alloc(8));
  const result = await sidecar.connection.sendRequest(ExportModelRequest, { ...ref, destination: join(workspace.dir, 'out') });
  assert.equal(result.path, join(workspace.dir, 'out'));
  assert.deepEqual(result.files.sort(), ['model.json', 'weights.bin']);
  assert.equal(readFileSync(join(workspace.dir, 'out', 'model.json'), 'utf8'), '{"format":"layers-model"}');
  await assert.rejects(sidecar.connection.sendRequest(ExportModelRequest, { ...ref, destination: join(workspace.dir, 'out') }), /already holds a model\.json/);
});

test('deleteRun removes the run folder; ids that leave the runs folder are refused', async () => {
  await assert.rejects(sidecar.connection.sendRequest(DeleteRunRequest, { runId: '../x', experimentPath: workspace.experimentPath }), /not a run id/);
  const before = await sidecar.connection.sendRequest(ListRunsRequest, { experimentPath: workspace.experimentPath });
  assert.equal(before.length, 1);
  const result = await sidecar.connection.sendRequest(DeleteRunRequest, { runId: RECORDED_RUN_ID, experimentPath: workspace.experimentPath });
  assert.equal(result.deleted, true);
  assert.equal(existsSync(result.runDir), false);
  assert.deepEqual(await sidecar.connection.sendRequest(ListRunsRequest, { experimentPath: workspace.experimentPath }), []);
});
