// A loss that becomes NaN (issue 7), through the real CLI: an absurd imitation learning rate (plain SGD
// at 10 on tanh blocks) makes block 0's loss NaN. The stage stops with a message naming the block and
// the step and suggesting the fix, the wide net's checkpoint (the last good one) is kept and verifies,
// no NaN reaches metrics.jsonl, and after the fix `--resume` goes on from that checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertRunFolderIntact, cli, ensureBuilt, lastJsonLine, quickExperiment, writeExperiment } from './reliability-helpers';

const experiment = (learningRate: number) =>
  quickExperiment('diverge', {
    data: { format: 'shapes', trainLimit: 600, testLimit: 100, validationSplit: 0.2 },
    model: { family: 'mlp', depth: 3, width: 16, activation: 'tanh' },
    wide: { epochs: 2, batchSize: 64, learningRate: 0.003 },
    imitate: { epochsPerLayer: 2, batchSize: 4, learningRate, optimizer: 'sgd', normalizeTargets: false, lowerLayers: 'train', schedule: 'constant' },
  });

test('a NaN imitation loss stops the stage naming block and step, keeps the last good checkpoint, and resumes after the fix', { timeout: 120_000 }, (t) => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-rel-nan-'));
  try {
    const file = writeExperiment(dir, experiment(10));
    const run = (...extra: string[]) => spawnSync(process.execPath, [cli, 'run', file, '--json', '--backend', 'wasm', ...extra], { cwd: dir, encoding: 'utf8', timeout: 100_000 });
    const result = run();
    assert.equal(result.status, 1, result.stderr);
    const report = lastJsonLine(result.stdout);
    assert.equal(report.state, 'failed');
    const match = /The loss became (NaN|-?Infinity) in phase "imitate", block (\d+) \(seed 1\) at step (\d+)\. Fix: lower imitate\.learningRate, or set imitate\.normalizeTargets to true\./.exec(report.error);
    assert.ok(match, report.error);
    assert.ok(result.stderr.includes(match[0]), 'the user sees the message on stderr');
    const [, value, block, step] = match;

    const summary = JSON.parse(fs.readFileSync(path.join(report.runDir, 'summary.json'), 'utf8'));
    const imitate = summary.stages.find((s: { stage: string }) => s.stage === 'imitate');
    assert.equal(imitate.state, 'failed');
    assert.ok(imitate.blocks.some((b: { index: number; state: string }) => b.index === Number(block) && b.state === 'diverging'), JSON.stringify(imitate.blocks));
    assert.equal(summary.stages.find((s: { stage: string }) => s.stage === 'wide').state, 'done');

    const folder = assertRunFolderIntact(report.runDir);
    assert.deepEqual(folder.checkpoints, ['seed1-wide'], 'the last good checkpoint is kept; nothing was saved from the diverged block');
    assert.ok(folder.metrics.every((m) => Object.values(m).every((v) => typeof v !== 'number' || Number.isFinite(v))), 'no NaN or Infinity in metrics.jsonl');
    assert.ok(folder.metrics.some((m) => m.phase === 'imitate' && m.block === Number(block)), 'the block\'s finite losses before the NaN are kept');

    // The fix the message suggests, then resume from the kept checkpoint.
    writeExperiment(dir, experiment(0.01));
    const resumed = run('--resume');
    assert.equal(resumed.status, 0, resumed.stderr);
    const after = lastJsonLine(resumed.stdout);
    assert.equal(after.state, 'done', after.error);
    assert.equal(after.resumedFrom.stage, 'wide', JSON.stringify(after.resumedFrom));
    assert.equal(after.runDir, report.runDir, 'the same run folder');
    assert.equal(after.diagnostics.imitation.length, 3, 'every block imitated after the fix');
    assertRunFolderIntact(after.runDir);
    t.diagnostic(`diverged: loss ${value} in imitate block ${block} at step ${step}; resumed from the wide checkpoint and finished`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
