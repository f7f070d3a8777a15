// Explorer items and stage readiness from a recorded run (quick start, stopped during the scratch
// baseline) and variations of it: icons, context values, descriptions, ids, what can start next.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockTitle } from '../../server/block-title';
import type { RunSummary, StageStatus } from '../../server/protocol';
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
  treeIds,
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
