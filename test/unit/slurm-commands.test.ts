// Reading Slurm's answers: the lines squeue and scontrol printed for real jobs on the test cluster
// (a completed job, a pending dependant, a process killed with SIGKILL, exit 3, scancel).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobState, parseScontrolJob, parseSqueue } from '../../server/launch/slurm/slurm-commands';

test('squeue lines: state, reason while waiting, exit or signal once ended', () => {
  const out = '1|COMPLETED|None|0\n7|PENDING|DependencyNeverSatisfied|0\n2|FAILED|JobLaunchFailure|9\n3|FAILED|NonZeroExitCode|768\n11|CANCELLED|None|15\n8_1|RUNNING|None|0\n';
  assert.deepEqual(Object.fromEntries(parseSqueue(out)), {
    1: { state: 'COMPLETED' },
    7: { state: 'PENDING', reason: 'DependencyNeverSatisfied' },
    2: { state: 'FAILED', reason: 'signal SIGKILL' },
    3: { state: 'FAILED', reason: 'exit 3' },
    11: { state: 'CANCELLED', reason: 'signal SIGTERM' },
    '8_1': { state: 'RUNNING' },
  });
});

test('scontrol show job: JobState, Reason and ExitCode (exit:signal)', () => {
  const line = 'JobId=2 JobName=k.sh UserId=root(0) JobState=FAILED Reason=JobLaunchFailure Dependency=(null) Requeue=1 ExitCode=0:9 RunTime=00:00:04';
  assert.deepEqual(parseScontrolJob(line), { state: 'FAILED', reason: 'signal SIGKILL' });
  assert.deepEqual(parseScontrolJob('JobId=4 JobState=PENDING Reason=Resources ExitCode=0:0'), { state: 'PENDING', reason: 'Resources' });
  assert.equal(parseScontrolJob('nothing'), undefined);
});

test('Slurm states map onto JOB_STATES; one gowide does not know is an error that names it', () => {
  assert.equal(jobState('CANCELLED by 0'), 'CANCELLED');
  assert.equal(jobState('COMPLETING'), 'RUNNING');
  assert.equal(jobState('CONFIGURING'), 'PENDING');
  assert.equal(jobState('BOOT_FAIL'), 'NODE_FAIL');
  assert.equal(jobState('OUT_OF_MEMORY'), 'OUT_OF_MEMORY');
  assert.throws(() => jobState('WIBBLE'), /job state gowide does not know: 'WIBBLE'/);
});
