// Continuing a run stage by stage keeps its history, and stages not yet run take the experiment's
// current (edited) settings while the ones that ran keep theirs.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { runExperiment } from '../../server/method/run-experiment';
import { readJournal } from '../../server/runs/run-journal';
import { RunStore } from '../../server/runs/run-store';
import { readStageSnapshot } from '../../server/runs/stage-settings';
import { syntheticDataset, tinyExperiment, useWasm } from './method-fixtures';
import { assertMetricsClean } from './resume-helpers';

const data = syntheticDataset();
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-resume-'));

test('continuing a run with one stage at a time keeps earlier stages, arms and metrics', async () => {
  await useWasm();
  const runsDir = tempDir();
  const common = { runsDir, experimentPath: path.join(runsDir, 'tiny.gowide.json'), loadData: async () => data };
  const experiment = tinyExperiment();
  const wide = await runExperiment(experiment, { ...common, stages: 'wide' });
  assert.equal(wide.summary.state, 'done', wide.summary.error);
  const runId = wide.summary.runId;

  const imitated = await runExperiment(experiment, { ...common, stages: 'imitate', runId });
  assert.equal(imitated.summary.state, 'done', imitated.summary.error);
  assert.deepEqual(imitated.summary.stages.map((s) => [s.stage, s.state]), [['wide', 'done'], ['imitate', 'done']]);
  assert.deepEqual(imitated.summary.arms.wide, wide.summary.arms.wide, 'the wide arm is kept');
  assert.equal(imitated.summary.diagnostics!.wideValidationAccuracy.length, 1);
  assert.equal(imitated.summary.diagnostics!.imitation.length, 3);

  const finetuned = await runExperiment(experiment, { ...common, stages: 'finetune', runId });
  assert.equal(finetuned.summary.state, 'done', finetuned.summary.error);
  assert.deepEqual(finetuned.summary.stages.map((s) => s.stage), ['wide', 'imitate', 'finetune']);
  assert.deepEqual(Object.keys(finetuned.summary.arms).sort(), ['wide', 'win']);
  assert.deepEqual(finetuned.summary.arms.wide, wide.summary.arms.wide);
  assert.equal(finetuned.summary.diagnostics!.imitation.length, 3, 'imitation diagnostics kept');
  assert.ok(finetuned.summary.diagnostics!.warmStartAccuracy.length === 1);
  assert.ok(finetuned.summary.diagnostics!.model, 'the thin model was exported');
  const onDisk = JSON.parse(fs.readFileSync(path.join(finetuned.summary.runDir, 'summary.json'), 'utf8'));
  assert.deepEqual(Object.keys(onDisk.arms).sort(), ['wide', 'win']);

  const baselines = await runExperiment(experiment, { ...common, stages: 'baselines', runId });
  assert.equal(baselines.summary.state, 'done', baselines.summary.error);
  assert.deepEqual(Object.keys(baselines.summary.arms).sort(), ['kd', 'scratch', 'wide', 'win']);
  assert.deepEqual(baselines.summary.arms.win, finetuned.summary.arms.win);

  const metrics = assertMetricsClean(baselines.summary.runDir);
  for (const phase of ['wide', 'imitate', 'finetune', 'scratch', 'kd']) assert.ok(metrics.some((m) => m.phase === phase), phase);
  assert.equal(metrics.filter((m) => m.split === 'test').length, 4, 'one test record per arm');
  assert.ok(!fs.existsSync(path.join(baselines.summary.runDir, 'run.lock')), 'the lock is released');
});

test('fine-tuning after an edit of the experiment uses the new settings; earlier stages keep theirs', async () => {
  await useWasm();
  const runsDir = tempDir();
  const common = { runsDir, experimentPath: path.join(runsDir, 'tiny.gowide.json'), loadData: async () => data };
  const before = tinyExperiment();
  const first = await runExperiment(before, { ...common, stages: 'wide' });
  const runId = first.summary.runId;
  await runExperiment(before, { ...common, stages: 'imitate', runId });

  // The imitation monitor's edit: fine-tuning settings change; an imitation edit comes too late.
  const edited = tinyExperiment({
    finetune: { ...before.finetune, epochs: 3, kdWeight: 0.25, temperature: 2, learningRate: 5e-3 },
    imitate: { ...before.imitate, epochsPerLayer: 7 },
    model: { ...before.model, width: 32 },
  });
  const logs: string[] = [];
  const done = await runExperiment(edited, { ...common, stages: 'finetune', runId, events: { onLog: (_, m) => logs.push(m) } });
  assert.equal(done.summary.state, 'done', done.summary.error);

  const finetune = readStageSnapshot(done.summary.runDir, 'finetune')!.experiment;
  assert.deepEqual(finetune.finetune, edited.finetune, 'fine-tuning ran with the edited settings');
  assert.equal(finetune.imitate.epochsPerLayer, before.imitate.epochsPerLayer, 'imitation settings stay what imitation ran with');
  assert.equal(finetune.model.width, before.model.width, 'the net structure stays the run’s');
  assert.deepEqual(readStageSnapshot(done.summary.runDir, 'imitate')!.experiment.finetune, before.finetune, 'the imitate snapshot is untouched');
  assert.deepEqual(readStageSnapshot(done.summary.runDir, 'wide')!.experiment.wide, before.wide);
  assert.ok(logs.some((m) => m.includes('model changed')), logs.join('\n'));

  const metrics = assertMetricsClean(done.summary.runDir);
  const steps = metrics.filter((m) => m.phase === 'finetune' && m.split === 'train').map((m) => m.step);
  const stepsPerEpoch = Math.floor(data.train.count / before.finetune.batchSize);
  assert.ok(Math.max(...steps) + 1 >= 2.5 * stepsPerEpoch, `3 epochs of fine-tuning (last step ${Math.max(...steps)}, ${stepsPerEpoch} per epoch)`);
  assert.ok(readJournal(done.summary.runDir)!.entries.some((e) => e.kind === 'commit' && e.phase === 'finetune'));
});

test('a run folder left before its journal was written (the process ended right after creating it) resumes from the start', async () => {
  await useWasm();
  const runsDir = tempDir();
  const common = { runsDir, experimentPath: path.join(runsDir, 'tiny.gowide.json'), loadData: async () => data };
  const experiment = tinyExperiment();
  const store = RunStore.create(runsDir, experiment, common.experimentPath);
  store.close();
  assert.ok(!fs.existsSync(path.join(store.runDir, 'progress.json')));

  const resumed = await runExperiment(experiment, { ...common, runId: store.runId, resume: true });
  assert.equal(resumed.summary.state, 'done', resumed.summary.error);
  assert.deepEqual(resumed.resumedFrom && [resumed.resumedFrom.stage, resumed.resumedFrom.droppedMetrics], [null, 0]);
  assert.deepEqual(Object.keys(resumed.summary.arms).sort(), ['kd', 'scratch', 'wide', 'win']);
  assert.deepEqual(readJournal(store.runDir)!.plan.phases, ['wide', 'imitate', 'finetune', 'scratch', 'kd']);
  assertMetricsClean(store.runDir);
});
