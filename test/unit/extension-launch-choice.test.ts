// The launcher settings read and checked, the launch options they make, the rows of Run All Stages'
// question, and the PATH lookup that decides whether to ask (sbatch found: a Slurm login node).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { launchFor, launchRows, onPath, readLaunchSettings, type LaunchSettings } from '../../extension/launch-choice';
import { LAUNCH_DEFAULTS } from '../../server/protocol';

const settingsOf = (values: Parameters<typeof readLaunchSettings>[0]): LaunchSettings => {
  const read = readLaunchSettings(values);
  assert.ok('settings' in read, JSON.stringify(read));
  return read.settings;
};

test('unset settings read as the protocol\'s defaults, with no launcher (so Run All Stages may ask)', () => {
  assert.deepEqual(settingsOf({}), { launcher: undefined, localJobs: LAUNCH_DEFAULTS.jobs, slurmOptions: [], gpusPerJob: 0, maxRetries: LAUNCH_DEFAULTS.maxRetries });
});

test('each bad setting is named with what to write instead', () => {
  const problem = (values: Parameters<typeof readLaunchSettings>[0]) => {
    const read = readLaunchSettings(values);
    assert.ok('problem' in read, `accepted ${JSON.stringify(values)}`);
    return read.problem;
  };
  assert.match(problem({ launcher: 'pbs' }), /gowide\.launcher is "pbs"; set it to "local" or "slurm"/);
  assert.match(problem({ localJobs: 0 }), /gowide\.localJobs is 0; set it to a whole number of 1 or more/);
  assert.match(problem({ localJobs: 2.5 }), /gowide\.localJobs is 2\.5/);
  assert.match(problem({ slurmOptions: '--partition=gpu' }), /gowide\.slurm\.options is "--partition=gpu"; set it to a list of sbatch arguments/);
  assert.match(problem({ slurmOptions: ['--x', 3] }), /gowide\.slurm\.options/);
  assert.match(problem({ gpusPerJob: -1 }), /gowide\.slurm\.gpusPerJob is -1; set it to a whole number of 0 or more/);
  assert.match(problem({ maxRetries: '2' }), /gowide\.slurm\.maxRetries is "2"/);
});

test('the launch options: local with one job is one process; Slurm carries the sbatch settings', () => {
  const plain = settingsOf({});
  assert.equal(launchFor('local', plain), undefined);
  assert.deepEqual(launchFor('local', plain, 4), { launcher: 'local', jobs: 4 });
  assert.deepEqual(launchFor('local', settingsOf({ localJobs: 2 })), { launcher: 'local', jobs: 2 });
  assert.deepEqual(launchFor('slurm', plain), { launcher: 'slurm', maxRetries: 2 });
  const cluster = settingsOf({ slurmOptions: ['--partition=gpu', '--time=01:00:00'], gpusPerJob: 1, maxRetries: 0 });
  assert.deepEqual(launchFor('slurm', cluster), { launcher: 'slurm', slurmOptions: ['--partition=gpu', '--time=01:00:00'], gpusPerJob: 1, maxRetries: 0 });
});

test('the question\'s rows: "N jobs at once" from gowide.localJobs, else the cores; none on one core', () => {
  const labels = (settings: LaunchSettings, cores: number) => launchRows(settings, cores).filter((r) => !r.separator).map((r) => r.label);
  assert.deepEqual(labels(settingsOf({}), 8), ['This machine', 'This machine, 8 jobs at once', 'Slurm cluster (sbatch)', 'Always this machine', 'Always Slurm cluster (sbatch)']);
  assert.deepEqual(labels(settingsOf({ localJobs: 3 }), 8)[1], 'This machine, 3 jobs at once');
  assert.deepEqual(labels(settingsOf({}), 1), ['This machine', 'Slurm cluster (sbatch)', 'Always this machine', 'Always Slurm cluster (sbatch)']);
  const rows = launchRows(settingsOf({ slurmOptions: ['--partition=debug'], gpusPerJob: 2 }), 2);
  const slurm = rows.find((r) => r.label === 'Slurm cluster (sbatch)')!;
  assert.equal(slurm.detail, '--partition=debug · 2 GPUs per job');
  assert.deepEqual(rows.find((r) => r.label === 'This machine, 2 jobs at once')!.value, { launcher: 'local', localJobs: 2 });
  assert.deepEqual(rows.find((r) => r.label === 'Always Slurm cluster (sbatch)')!.value, { launcher: 'slurm', always: true });
});

test('onPath finds an executable file in a PATH folder, not a plain file or a missing one', () => {
  const empty = mkdtempSync(join(tmpdir(), 'gowide-path-a-'));
  const bin = mkdtempSync(join(tmpdir(), 'gowide-path-b-'));
  writeFileSync(join(bin, 'sbatch'), '#!/bin/sh\n');
  chmodSync(join(bin, 'sbatch'), 0o755);
  writeFileSync(join(bin, 'squeue'), 'not executable');
  chmodSync(join(bin, 'squeue'), 0o644);
  const searchPath = [empty, bin].join(delimiter);
  assert.equal(onPath('sbatch', searchPath), true);
  assert.equal(onPath('squeue', searchPath), false, 'a file without an execute bit is not a command, even for root');
  assert.equal(onPath('scancel', searchPath), false);
  assert.equal(onPath('sbatch', ''), false);
});
