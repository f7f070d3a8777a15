// Run folder housekeeping (issue 7): temporary files that a killed process left mid-write are removed
// when the run is opened again, and a run.lock of a process that is gone is taken over while a live
// one is refused with its pid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireRunLock } from '../../server/runs/run-lock';
import { RunStore } from '../../server/runs/run-store';

test('opening a run removes the temporary files of writes a killed process left behind', () => {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-rel-runs-'));
  try {
    const runDir = path.join(runsDir, 'r1');
    fs.mkdirSync(path.join(runDir, 'checkpoints'), { recursive: true });
    fs.writeFileSync(path.join(runDir, 'experiment.json'), '{}');
    const orphans = [path.join(runDir, '.progress.json.4242.1795628163909.tmp'), path.join(runDir, 'checkpoints', '.seed1-wide.bin.4242.1795628163000.tmp')];
    for (const file of orphans) fs.writeFileSync(file, 'half a write');
    const keep = path.join(runDir, 'checkpoints', 'seed1-wide.json');
    fs.writeFileSync(keep, '{}');
    const store = RunStore.open(runsDir, 'r1');
    store.close();
    for (const file of orphans) assert.ok(!fs.existsSync(file), `${path.basename(file)} removed`);
    assert.ok(fs.existsSync(keep), 'real files stay');
  } finally {
    fs.rmSync(runsDir, { recursive: true, force: true });
  }
});

test('a stale run.lock is taken over; a live owner is refused with its pid', async () => {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-rel-lock-'));
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => gone.on('exit', resolve));
    fs.writeFileSync(path.join(runDir, 'run.lock'), `${gone.pid}\n`);
    const release = acquireRunLock(runDir);
    assert.equal(fs.readFileSync(path.join(runDir, 'run.lock'), 'utf8').trim(), String(process.pid));
    release();
    assert.ok(!fs.existsSync(path.join(runDir, 'run.lock')));

    fs.writeFileSync(path.join(runDir, 'run.lock'), `${sleeper.pid}\n`);
    assert.throws(() => acquireRunLock(runDir), new RegExp(`in progress in process ${sleeper.pid}`));
    assert.equal(fs.readFileSync(path.join(runDir, 'run.lock'), 'utf8').trim(), String(sleeper.pid), 'the live lock is untouched');
    assert.deepEqual(fs.readdirSync(runDir), ['run.lock'], 'no stray lock files');
  } finally {
    sleeper.kill();
    fs.rmSync(runDir, { recursive: true, force: true });
  }
});

test('a run changed by another process between planning and opening is refused instead of continued from a stale plan', () => {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-rel-stale-'));
  try {
    const runDir = path.join(runsDir, 'r1');
    fs.mkdirSync(runDir);
    fs.writeFileSync(path.join(runDir, 'experiment.json'), '{}');
    fs.writeFileSync(path.join(runDir, 'progress.json'), '{"format":"gowide-journal-1","entries":[]}\n');
    const planned = fs.readFileSync(path.join(runDir, 'progress.json'), 'utf8');
    RunStore.open(runsDir, 'r1', planned).close();
    fs.writeFileSync(path.join(runDir, 'progress.json'), '{"format":"gowide-journal-1","entries":[{"kind":"commit"}]}\n');
    assert.throws(() => RunStore.open(runsDir, 'r1', planned), /changed by another gowide process/);
    assert.ok(!fs.existsSync(path.join(runDir, 'run.lock')), 'the lock is released');
  } finally {
    fs.rmSync(runsDir, { recursive: true, force: true });
  }
});
