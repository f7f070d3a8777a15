// The CLI's run report: the warnings for a wide net that did not beat the thin net trained from scratch
// and for an imitation that carried almost nothing over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lostWarmStartLine, summaryTable, weakTeacherLine } from '../../server/cli/report';
import type { ArmResult, RunSummary } from '../../server/protocol';

const arm = (perSeed: number[]): ArmResult => ({ accuracy: { mean: perSeed.reduce((a, b) => a + b, 0) / perSeed.length, std: 0, perSeed }, params: 10, seconds: 1 });
const summary = (wide: number[], scratch: number[]): RunSummary =>
  ({ runId: 'r', runDir: '/tmp/r', experiment: 'e', experimentPath: '/tmp/e.gowide.json', state: 'done', startedAt: '', stages: [], arms: { wide: arm(wide), scratch: arm(scratch), win: arm(scratch) } }) as RunSummary;

test('no warning when the wide net beats scratch on every seed', () => {
  assert.equal(weakTeacherLine(summary([0.82, 0.8], [0.77, 0.78])), undefined);
});

test('a seed whose wide net is no better than scratch is named with both figures and the fix', () => {
  const line = weakTeacherLine(summary([0.816, 0.767], [0.765, 0.776]))!;
  assert.match(line, /no better than scratch on 1 of 2 seeds \(76\.7 vs 77\.6\)/);
  assert.match(line, /wide\.epochs/);
  assert.ok(summaryTable(summary([0.816, 0.767], [0.765, 0.776])).includes(line), 'the CLI table shows it');
});

const withDiagnostics = (wideValidation: number[], warmStart: number[]): RunSummary => {
  const s = summary([0.8, 0.8], [0.7, 0.7]);
  s.diagnostics = { stageSeconds: {}, wideValidationAccuracy: wideValidation, warmStartAccuracy: warmStart, imitation: [] };
  return s;
};

test('a warm start at half the wide net or more raises no warning', () => {
  assert.equal(lostWarmStartLine(withDiagnostics([0.85, 0.84], [0.55, 0.43])), undefined);
});

test('a warm start below half the wide net is named per seed with the fix', () => {
  const s = withDiagnostics([0.778, 0.832], [0.247, 0.6]);
  const line = lostWarmStartLine(s)!;
  assert.match(line, /on 1 of 2 seeds \(24\.7 vs 77\.8\)/);
  assert.match(line, /imitate\.groups "block"/);
  assert.ok(summaryTable(s).includes(line), 'the CLI table shows it');
});
