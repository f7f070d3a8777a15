// Explorer items and stage readiness from a recorded run (quick start, stopped during the scratch
// baseline) and variations of it: icons, context values, descriptions, ids, what can start next.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockTitle } from '../../server/block-title';
import { jobGraph } from '../../server/launch/job-graph';
import type { JobStatus, RunSummary, StageStatus } from '../../server/protocol';
import { hasFinished, remainingStages, resultLine, stageReadiness } from '../../server/editor/run-figures';
import {
  blockDescription,
  experimentContextValue,
  runContextValue,
  runDescription,
  stageContextValue,
  stageDescription,
  stateIcon,
  contextKeysFor,
  jobContextValue,
  jobDescription,
  jobIcon,
  jobsGroupDescription,
  jobStateText,
  jobTooltip,
  runTooltip,
  treeIds,
  experimentEntries,
  runLabel,
  sweepDescription,
  sweepLabel,
  sweepState,
  sweepTooltip,
  type SweepEntry,
} from '../../extension/run-tree-model';
import { recordedSummary } from '../sidecar/editor-fixture';

const recorded = recordedSummary();
const withState = (run: RunSummary, state: RunSummary['state']): RunSummary => ({ ...run, state });

test('state icons: running spins in blue, diverging warns, failed is red, queued has no colour', () => {
  assert.deepEqual(stateIcon('running'), { id: 'sync~spin', color: 'charts.blue' });
  assert.deepEqual(stateIcon('diverging'), { id: 'warning', color: 'charts.orange' });
  assert.equal(stateIcon('failed').color, 'charts.red');
  assert.equal(stateIcon('converged').id, 'pass');
  assert.equal(stateIcon('done').id, 'pass-filled');
  assert.equal(stateIcon('queued').color, undefined);
});

test('run context values gate the menus by state', () => {
  // The recorded run exported its thin model after fine-tuning seed 1, then stopped in a baseline.
  assert.equal(runContextValue(recorded), 'gowide.run resumable exportable hasImitation deletable');
  assert.equal(runContextValue(withState(recorded, 'running')), 'gowide.run running exportable hasImitation');
  const noModel: RunSummary = { ...withState(recorded, 'done'), diagnostics: { ...recorded.diagnostics!, model: undefined } };
  assert.equal(runContextValue(noModel), 'gowide.run hasImitation deletable');
  const imitate = recorded.stages.find((s) => s.stage === 'imitate')!;
  assert.equal(stageContextValue(imitate, recorded), 'gowide.stage imitate');
});

test('descriptions show the latest figure: accuracy, block losses, live progress', () => {
  const [wide, imitate] = recorded.stages;
  assert.equal(stageDescription(wide), 'val acc 67.4%');
  assert.equal(stageDescription(imitate), 'warm-start acc 14.1% · 10 blocks');
  assert.equal(blockDescription(imitate.blocks![0]), 'loss 0.908 (from 2.04)');
  const staged: StageStatus = { stage: 'imitate', state: 'done', blocks: [{ index: 2, from: 0, state: 'done' }, { index: 5, from: 3, state: 'done' }, { index: 7, from: 6, state: 'done' }] };
  assert.equal(stageDescription(staged), '8 blocks in 3 groups');
  assert.equal(blockTitle(staged.blocks![1]), 'Blocks 4-6');
  assert.equal(runDescription(recorded), 'stopped');
  const live = runDescription(withState(recorded, 'running'), { runId: recorded.runId, phase: 'imitate', seed: 1, block: 2, fraction: 0.42, message: '', etaSeconds: 95 });
  assert.equal(live, '42% · imitate block 3, 2 min left');
});

test('a finished run reads as win vs scratch', () => {
  const done: RunSummary = {
    ...withState(recorded, 'done'),
    arms: {
      win: { accuracy: { mean: 0.912, std: 0.01, perSeed: [0.902, 0.922] }, params: 1000, seconds: 10 },
      scratch: { accuracy: { mean: 0.88, std: 0.01, perSeed: [0.87, 0.89] }, params: 1000, seconds: 10 },
    },
  };
  assert.equal(resultLine(done), 'win 91.2% vs scratch 88.0% (+3.2 points)');
  assert.equal(runDescription(done), 'win 91.2% vs scratch 88.0% (+3.2 points)');
});

test('readiness: imitation needs a trained wide net, fine-tuning a finished imitation, nothing while a run is active', () => {
  assert.deepEqual(stageReadiness('wide', []), { ready: true });
  const noWide = stageReadiness('imitate', []);
  assert.equal(noWide.ready, false);
  assert.match((noWide as { reason: string }).reason, /Train Wide Network/);
  assert.deepEqual(stageReadiness('finetune', [recorded]), { ready: true, runId: recorded.runId });
  const busy = stageReadiness('all', [withState(recorded, 'running')]);
  assert.equal(busy.ready, false);
  // A run continued with imitation only records that stage, which still proves the wide checkpoint.
  const continued: RunSummary = { ...recorded, stages: [{ stage: 'imitate', state: 'running' }] };
  assert.equal(hasFinished(continued, 'wide'), true);
  assert.equal(hasFinished(continued, 'imitate'), false);
  assert.deepEqual(contextKeysFor([recorded]), { 'gowide.isTraining': false, 'gowide.canImitate': true, 'gowide.canFinetune': true, 'gowide.canResume': true });
  assert.equal(experimentContextValue([recorded]), 'gowide.experiment canImitate canFinetune');
  assert.equal(experimentContextValue([]), 'gowide.experiment');
});

test('resume continues with the stages left: scratch and kd become "baselines"', () => {
  assert.deepEqual(remainingStages(recorded), ['baselines']);
  const early: RunSummary = { ...recorded, stages: [{ stage: 'wide', state: 'done' }, { stage: 'imitate', state: 'stopped' }, { stage: 'finetune', state: 'queued' }, { stage: 'kd', state: 'queued' }] };
  assert.deepEqual(remainingStages(early), ['imitate', 'finetune', 'baselines']);
});

test('tree ids are stable and distinct per level', () => {
  const ids = [treeIds.experiment('file:///a.gowide.json'), treeIds.run('file:///a.gowide.json', 'r1'), treeIds.stage('file:///a.gowide.json', 'r1', 'imitate'), treeIds.block('file:///a.gowide.json', 'r1', 0)];
  assert.equal(new Set(ids).size, 4);
  assert.equal(treeIds.run('file:///a.gowide.json', 'r1'), treeIds.run('file:///a.gowide.json', 'r1'));
});

// ---------- a launched run: its launcher, the Jobs group, each job, the stages' jobs ----------

/** Two seeds on Slurm, midway: the job graph of a full run, each job as the merged summary reports it. */
function launchedRun(): RunSummary {
  const run = withState(recorded, 'running');
  const states: Record<string, Pick<JobStatus, 'state' | 'reason' | 'attempts'>> = {
    'wide-seed1': { state: 'COMPLETED', attempts: 1 },
    // Its first node was lost; resubmitted, it resumed from its checkpoint.
    'win-seed1': { state: 'RUNNING', reason: 'None', attempts: 2 },
    'scratch-seed1': { state: 'COMPLETED', attempts: 1 },
    'kd-seed1': { state: 'FAILED', reason: 'training failed: the loss diverged', attempts: 1 },
    'wide-seed2': { state: 'RUNNING', reason: 'None', attempts: 1 },
    'win-seed2': { state: 'PENDING', reason: 'Dependency', attempts: 1 },
    'scratch-seed2': { state: 'PENDING', reason: 'Resources', attempts: 1 },
    'kd-seed2': { state: 'PENDING', reason: 'Dependency', attempts: 1 },
  };
  const jobs = jobGraph(['wide', 'imitate', 'finetune', 'scratch', 'kd'], [1, 2]).map((spec, i): JobStatus => ({
    name: spec.name,
    stage: spec.group,
    seed: spec.seed,
    phases: spec.phases,
    jobId: String(100 + i),
    ...states[spec.name],
    log: `${run.runDir}/jobs/${spec.name}.attempt${states[spec.name].attempts}.log`,
  }));
  const stages: StageStatus[] = [
    { stage: 'wide', state: 'running' },
    { stage: 'imitate', state: 'running' },
    { stage: 'finetune', state: 'queued' },
    { stage: 'scratch', state: 'queued' },
    { stage: 'kd', state: 'failed' },
  ];
  return { ...run, stages, launcher: 'slurm', jobs };
}

const jobNamed = (run: RunSummary, name: string) => run.jobs!.find((j) => j.name === name)!;

test('a launched run shows its launcher; its Jobs group counts the jobs by Slurm state', () => {
  const run = launchedRun();
  assert.equal(runDescription(run), 'slurm · running');
  assert.match(runTooltip(run), /^launcher slurm, 8 jobs$/m);
  assert.equal(jobsGroupDescription(run), 'slurm · 3 PENDING, 2 RUNNING, 2 COMPLETED, 1 FAILED');
  // A run in one process has neither.
  assert.equal(runDescription(recorded), 'stopped');
  assert.doesNotMatch(runTooltip(recorded), /launcher/);
});

test('each job: id, Slurm state with the reason it waits or failed, attempts after a resubmission', () => {
  const run = launchedRun();
  assert.deepEqual(run.jobs!.map((j) => j.name), ['wide-seed1', 'win-seed1', 'scratch-seed1', 'kd-seed1', 'wide-seed2', 'win-seed2', 'scratch-seed2', 'kd-seed2']);
  assert.equal(jobDescription(jobNamed(run, 'wide-seed1')), '100 · COMPLETED');
  assert.equal(jobDescription(jobNamed(run, 'win-seed1')), '101 · RUNNING · attempt 2');
  assert.equal(jobDescription(jobNamed(run, 'kd-seed1')), '103 · FAILED (training failed: the loss diverged)');
  assert.equal(jobDescription(jobNamed(run, 'win-seed2')), '105 · PENDING (Dependency)');
  assert.equal(jobDescription(jobNamed(run, 'scratch-seed2')), '106 · PENDING (Resources)');
  assert.equal(jobDescription({ ...jobNamed(run, 'win-seed2'), jobId: null, reason: undefined, attempts: 0 }), 'not submitted · PENDING');
  assert.equal(jobStateText({ ...jobNamed(run, 'kd-seed2'), state: 'TIMEOUT', reason: 'TimeLimit' }), 'TIMEOUT (TimeLimit)');
  assert.deepEqual(jobIcon('PENDING'), stateIcon('queued'));
  assert.deepEqual(jobIcon('RUNNING'), stateIcon('running'));
  assert.deepEqual(jobIcon('COMPLETED'), stateIcon('done'));
  for (const ended of ['FAILED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY'] as const) assert.deepEqual(jobIcon(ended), stateIcon('failed'), ended);
  assert.deepEqual(jobIcon('CANCELLED'), stateIcon('stopped'));
  const tooltip = jobTooltip(jobNamed(run, 'win-seed1'));
  assert.match(tooltip, /^win-seed1: Layerwise imitation, Fine-tuning, seed 1$/m);
  assert.match(tooltip, /^attempts 2$/m);
  assert.match(tooltip, new RegExp(`^log ${run.runDir}/jobs/win-seed1\\.attempt2\\.log$`, 'm'));
  // Open Job Log is offered where there is a log.
  assert.equal(jobContextValue(jobNamed(run, 'win-seed1')), 'gowide.job hasLog');
  assert.equal(jobContextValue({ ...jobNamed(run, 'win-seed1'), log: undefined }), 'gowide.job');
});

test('stages of a launched run say which jobs they run in, and how those stand', () => {
  const run = launchedRun();
  const [wide, imitate, finetune, scratch, kd] = run.stages;
  assert.equal(stageDescription(wide, run.jobs), 'running · in wide-seed1, wide-seed2: 1 COMPLETED, 1 RUNNING');
  assert.equal(stageDescription(imitate, run.jobs), 'running · in win-seed1, win-seed2: 1 RUNNING, 1 PENDING (Dependency)');
  assert.equal(stageDescription(finetune, run.jobs), 'queued · in win-seed1, win-seed2: 1 RUNNING, 1 PENDING (Dependency)');
  assert.equal(stageDescription(scratch, run.jobs), 'queued · in scratch-seed1, scratch-seed2: 1 COMPLETED, 1 PENDING (Resources)');
  assert.equal(stageDescription(kd, run.jobs), 'failed · in kd-seed1, kd-seed2: 1 FAILED (training failed: the loss diverged), 1 PENDING (Dependency)');
  const oneSeed = run.jobs!.filter((j) => j.seed === 1);
  assert.equal(stageDescription(imitate, oneSeed), 'running · in win-seed1 RUNNING');
  const threeSeeds = [...run.jobs!, { ...jobNamed(run, 'win-seed2'), name: 'win-seed3', seed: 3, jobId: '108' }];
  assert.equal(stageDescription(imitate, threeSeeds), 'running · in 3 jobs: 1 RUNNING, 2 PENDING (Dependency)');
  assert.equal(stageDescription(wide), 'running', 'a run in one process: no jobs');
  const jobIds = [treeIds.jobs('file:///a.gowide.json', 'r1'), treeIds.job('file:///a.gowide.json', 'r1', 'wide-seed1'), treeIds.stage('file:///a.gowide.json', 'r1', 'wide')];
  assert.equal(new Set(jobIds).size, 3);
});

// ---------- a sweep: its points gathered under one item ----------

const FACTORS = { 'widen.factor': [2, 4, 8] };
const winOf = (win: number): RunSummary['arms'] => ({ win: { accuracy: { mean: win, std: 0, perSeed: [win] }, params: 1000, seconds: 10 } });

/** A point's run as listRuns gives it: the recorded run, renamed, with its sweep. */
function point(sweepId: string, factor: number, startedAt: string, state: RunSummary['state'], arms: RunSummary['arms'] = {}): RunSummary {
  return { ...recorded, runId: `mlp-f${factor}-${sweepId}`, startedAt, state, arms, sweep: { sweepId, values: { 'widen.factor': factor }, grid: FACTORS } };
}

const plainRun = (runId: string, startedAt: string): RunSummary => ({ ...recorded, runId, startedAt });

test('a sweep\'s points are one entry, placed by its newest point; other runs stay as they are', () => {
  // Newest first, as listRuns gives them: factor 8 runs (started last), 4 and 2 finished.
  const runs = [
    point('mlp-sweep-b', 8, '2026-03-02T10:20:00Z', 'running'),
    plainRun('mlp-20260302-101500', '2026-03-02T10:15:00Z'),
    point('mlp-sweep-b', 4, '2026-03-02T10:10:00Z', 'done', winOf(0.861)),
    point('mlp-sweep-b', 2, '2026-03-02T10:00:00Z', 'done', winOf(0.855)),
    point('mlp-sweep-a', 2, '2026-03-01T09:00:00Z', 'done', winOf(0.84)),
    plainRun('mlp-20260228-080000', '2026-02-28T08:00:00Z'),
  ];
  const entries = experimentEntries(runs);
  assert.deepEqual(
    entries.map((e) => (e.kind === 'run' ? e.run.runId : e.sweepId)),
    ['mlp-sweep-b', 'mlp-20260302-101500', 'mlp-sweep-a', 'mlp-20260228-080000'],
  );
  const sweep = entries[0] as SweepEntry;
  assert.deepEqual(sweep.points.map((r) => r.sweep!.values['widen.factor']), [2, 4, 8], 'points in grid order');
  assert.equal(sweepLabel(sweep), 'sweep · widen.factor 2, 4, 8');
  assert.equal(sweepDescription(sweep), '2 of 3 done · 1 running · best win 86.1% at widen.factor 4');
  assert.equal(sweepState(sweep), 'running');
  // Each point's row reads as its values and keeps everything else a run shows.
  assert.deepEqual(sweep.points.map(runLabel), ['widen.factor 2', 'widen.factor 4', 'widen.factor 8']);
  assert.equal(runDescription(sweep.points[1]), 'win 86.1%');
  assert.equal(runContextValue(sweep.points[2]), runContextValue({ ...sweep.points[2], sweep: undefined }), 'a point takes the same commands as any run');
  assert.equal(runLabel(runs[1]), 'mlp · 2026-03-02 10:15', 'a run outside a sweep keeps its name and time');
  assert.notEqual(treeIds.sweep('file:///a.gowide.json', 'mlp-sweep-b'), treeIds.run('file:///a.gowide.json', 'mlp-sweep-b'));
});

test('a sweep not finished says what is left; a finished one is done with its best point', () => {
  const [stopped] = experimentEntries([point('s', 2, '2026-03-02T10:00:00Z', 'done'), point('s', 4, '2026-03-02T10:10:00Z', 'stopped')]) as SweepEntry[];
  // Neither finished point has a win accuracy yet (no best), and factor 8 never started.
  assert.equal(sweepDescription(stopped), '1 of 3 done · 1 stopped');
  assert.equal(sweepState(stopped), 'stopped');
  assert.equal(sweepTooltip(stopped), 's\nwiden.factor 2: done\nwiden.factor 4: stopped\nwiden.factor 8: not started');
  const failed = experimentEntries([point('s', 2, '2026-03-02T10:00:00Z', 'failed')])[0] as SweepEntry;
  assert.equal(sweepDescription(failed), '0 of 3 done · 1 failed');
  assert.equal(sweepState(failed), 'failed');
  const done = experimentEntries([8, 4, 2].map((f, i) => point('s', f, `2026-03-02T10:0${i}:00Z`, 'done', winOf(0.8 + f / 100)))) as SweepEntry[];
  assert.equal(done.length, 1);
  assert.equal(sweepDescription(done[0]), '3 of 3 done · best win 88.0% at widen.factor 8');
  assert.equal(sweepState(done[0]), 'done');
  assert.match(sweepTooltip(done[0]), /^widen\.factor 8: done · win 88\.0%$/m);
});

test('a grid of two fields: label, point labels and order follow the grid, first field slowest', () => {
  const grid = { 'model.width': [32, 64], 'widen.factor': [2, 4] };
  const at = (width: number, factor: number, minute: number): RunSummary => ({
    ...point('g', factor, `2026-03-02T10:${String(minute).padStart(2, '0')}:00Z`, 'done'),
    runId: `w${width}-f${factor}`,
    sweep: { sweepId: 'g', values: { 'model.width': width, 'widen.factor': factor }, grid },
  });
  const [sweep] = experimentEntries([at(64, 2, 3), at(32, 4, 2), at(64, 4, 1), at(32, 2, 0)]) as SweepEntry[];
  assert.equal(sweepLabel(sweep), 'sweep · model.width 32, 64 × widen.factor 2, 4');
  assert.deepEqual(sweep.points.map(runLabel), ['model.width 32, widen.factor 2', 'model.width 32, widen.factor 4', 'model.width 64, widen.factor 2', 'model.width 64, widen.factor 4']);
  assert.equal(sweepDescription(sweep), '4 of 4 done');
});
