import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadExperimentFile } from '../../server/experiment/load';
import { continuedExperiment, writeStageSnapshot } from '../../server/runs/stage-settings';

const quickstart = path.resolve('examples/quickstart.gowide.json');

test('a baseline that ran keeps the standard schedule and the epoch budget it ran with when only fine-tuning starts again', () => {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-stage-settings-'));
  const { experiment: base } = loadExperimentFile(quickstart);
  fs.writeFileSync(path.join(runDir, 'experiment.json'), JSON.stringify({ experimentPath: quickstart, experiment: base }));
  writeStageSnapshot(runDir, { stage: 'scratch', startedAt: new Date().toISOString(), experimentPath: quickstart, experiment: base });
  const edited = structuredClone(base);
  edited.wide.learningRate = base.wide.learningRate * 5;
  edited.imitate.epochsPerLayer = base.imitate.epochsPerLayer * 2;
  edited.finetune.epochs = base.finetune.epochs + 3;

  const { experiment, notes } = continuedExperiment(runDir, edited, ['finetune'], ['scratch']);
  // scratch read wide (its schedule) and imitate.epochsPerLayer (its budget): both stay as it ran them;
  // finetune starts now and owns the finetune settings.
  assert.equal(experiment.wide.learningRate, base.wide.learningRate);
  assert.equal(experiment.imitate.epochsPerLayer, base.imitate.epochsPerLayer);
  assert.equal(experiment.finetune.epochs, edited.finetune.epochs);
  assert.ok(notes.some((n) => n.startsWith('wide:')), notes.join('\n'));
  fs.rmSync(runDir, { recursive: true, force: true });
});
