// The run store: safe names, atomic files, checksummed checkpoints, append-only metrics.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { readCheckpoint, restoreCheckpoint, saveCheckpoint } from '../../server/runs/checkpoint';
import { MetricsLog, readMetricsFile } from '../../server/runs/metrics-log';
import { runFolderName, runPath, sanitizeName } from '../../server/runs/names';
import { RunStore } from '../../server/runs/run-store';
import { listRuns } from '../../server/runs/list';
import { tinyExperiment, useWasm } from './method-fixtures';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-runs-'));

test('experiment names cannot leave the runs folder', () => {
  for (const hostile of ['../../etc/passwd', '..', '/abs/path', 'a/b\\c', '.hidden', '', 'ok name!']) {
    const name = sanitizeName(hostile);
    assert.match(name, /^[A-Za-z0-9][A-Za-z0-9._-]*$/, hostile);
    assert.ok(!name.includes('..') || !name.includes('/'), hostile);
  }
  assert.match(runFolderName('../evil', new Date('2026-01-02T03:04:05Z')), /^evil-20260102-030405$/);
  const dir = tempDir();
  assert.throws(() => runPath(dir, '../x'));
  assert.throws(() => runPath(dir, 'a/b'));
  assert.equal(runPath(dir, 'run-1'), path.join(dir, 'run-1'));
  const store = RunStore.create(dir, tinyExperiment({ name: '../../escape' }), path.join(dir, 'x.gowide.json'));
  assert.equal(path.dirname(store.runDir), path.resolve(dir));
  const second = RunStore.create(dir, tinyExperiment({ name: '../../escape' }), path.join(dir, 'x.gowide.json'), new Date(0));
  const third = RunStore.create(dir, tinyExperiment({ name: '../../escape' }), path.join(dir, 'x.gowide.json'), new Date(0));
  assert.notEqual(second.runDir, third.runDir, 'two runs never share a folder');
  for (const s of [store, second, third]) s.close();
});

test('checkpoints round-trip and corruption is detected', async () => {
  await useWasm();
  const dir = tempDir();
  const a = tf.variable(tf.tensor2d([[1, 2], [3, 4]])) as tf.Variable;
  const b = tf.variable(tf.tensor1d([5, 6, 7])) as tf.Variable;
  await saveCheckpoint(dir, 'cp', new Map<string, tf.Variable>([['a', a], ['b', b]]), { block: 2 });
  const { index } = readCheckpoint(dir, 'cp');
  assert.equal(index.meta.block, 2);
  assert.match(index.sha256, /^[0-9a-f]{64}$/);
  a.assign(tf.zeros([2, 2]));
  restoreCheckpoint(dir, 'cp', new Map<string, tf.Variable>([['a', a], ['b', b]]));
  assert.deepEqual(Array.from(await a.data()), [1, 2, 3, 4]);
  const bin = path.join(dir, 'cp.bin');
  const bytes = fs.readFileSync(bin);
  bytes[3] ^= 0xff;
  fs.writeFileSync(bin, bytes);
  assert.throws(() => readCheckpoint(dir, 'cp'), /corrupt/);
  fs.writeFileSync(bin, bytes.subarray(0, 10));
  assert.throws(() => readCheckpoint(dir, 'cp'), /truncated/);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'no temporary files left');
  a.dispose();
  b.dispose();
});

test('metrics are append-only with contiguous seq, and a torn last line is ignored', () => {
  const dir = tempDir();
  const file = path.join(dir, 'metrics.jsonl');
  const log = new MetricsLog(file, 'r');
  log.append([{ seed: 1, phase: 'wide', step: 0, loss: 1 }, { seed: 1, phase: 'wide', step: 10, loss: 0.5 }]);
  log.close();
  fs.appendFileSync(file, '{"seed":1,"pha');
  const reopened = new MetricsLog(file, 'r');
  reopened.append([{ seed: 1, phase: 'imitate', block: 0, step: 0, loss: 2 }]);
  reopened.close();
  const records = readMetricsFile(file);
  assert.deepEqual(records.map((r) => r.seq), [0, 1, 2]);
  assert.deepEqual(readMetricsFile(file, 0).map((r) => r.seq), [1, 2]);
});

test('listRuns reads summaries, newest first, filtered by experiment', () => {
  const dir = tempDir();
  const one = RunStore.create(dir, tinyExperiment({ name: 'one' }), path.join(dir, 'one.gowide.json'));
  const two = RunStore.create(dir, tinyExperiment({ name: 'two' }), path.join(dir, 'two.gowide.json'));
  const summary = (s: RunStore, name: string, startedAt: string) => ({
    runId: s.runId, runDir: s.runDir, experiment: name, experimentPath: path.join(dir, `${name}.gowide.json`),
    state: 'done' as const, startedAt, stages: [], arms: {},
  });
  one.writeSummary(summary(one, 'one', '2026-01-01T00:00:00Z'));
  two.writeSummary(summary(two, 'two', '2026-01-02T00:00:00Z'));
  assert.deepEqual(listRuns(dir).map((r) => r.experiment), ['two', 'one']);
  assert.deepEqual(listRuns(dir, path.join(dir, 'one.gowide.json')).map((r) => r.experiment), ['one']);
  one.close();
  two.close();
});
