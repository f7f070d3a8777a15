import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dependencyOrder, jobGraph } from '../../server/launch/job-graph';

test('a run of all stages is, per seed, wide, then win and the teacher baselines after it, and the scratch baselines free', () => {
  const jobs = jobGraph(['wide', 'imitate', 'finetune', 'scratch', 'kd'], [1, 2]);
  assert.deepEqual(
    jobs.map((j) => [j.name, j.phases.join('+'), j.needs.join(',')]),
    [
      ['wide-seed1', 'wide', ''],
      ['win-seed1', 'imitate+finetune', 'wide-seed1'],
      ['scratch-seed1', 'scratch', ''],
      ['kd-seed1', 'kd', 'wide-seed1'],
      ['wide-seed2', 'wide', ''],
      ['win-seed2', 'imitate+finetune', 'wide-seed2'],
      ['scratch-seed2', 'scratch', ''],
      ['kd-seed2', 'kd', 'wide-seed2'],
    ],
  );
});

test('without a wide job in the plan, jobs that need the wide net depend on nothing (it is already committed)', () => {
  const jobs = jobGraph(['finetune', 'kd-steps', 'scratch-compute'], [3]);
  assert.deepEqual(jobs.map((j) => [j.name, j.needs.length]), [['win-seed3', 0], ['kd-steps-seed3', 0], ['scratch-compute-seed3', 0]]);
});

test('dependency order puts every job after what it needs and refuses unknown needs', () => {
  const jobs = jobGraph(['wide', 'imitate', 'finetune'], [1]).reverse();
  assert.deepEqual(dependencyOrder(jobs).map((j) => j.name), ['wide-seed1', 'win-seed1']);
  assert.throws(() => dependencyOrder([{ name: 'a', group: 'win', seed: 1, phases: ['imitate'], needs: ['b'] }]), /needs b, which is not in the run/);
});
