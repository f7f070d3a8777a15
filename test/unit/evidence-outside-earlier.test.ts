// The list's run beside its run under earlier defaults (scripts/evidence/outside-earlier.ts): each
// setting pairs win seed by seed across the two runs, and each run is counted against the goal.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { outsideRunsTable } from '../../scripts/evidence/outside-earlier';
import type { OutsideResult, OutsideResults } from '../../scripts/evidence/outside-report';

const then = JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'evidence', 'outside-wide-1x.json'), 'utf8')) as OutsideResults;

/** The run with win moved by `shift` on the second seed only, and win - scratch's paired mean set from it. */
function movedSecondSeed(r: OutsideResult, shift: number): OutsideResult {
  const win = r.report.arms.win!;
  const perSeed = win.accuracy.perSeed.map((w, i) => (i === 1 ? w + shift : w));
  const scratch = r.report.arms.scratch!.accuracy.perSeed;
  const differences = perSeed.map((w, i) => w - scratch[i]);
  const mean = differences.reduce((a, b) => a + b, 0) / differences.length;
  const pairedWin = { ...r.report.paired!['win-scratch']!, mean, ahead: differences.filter((d) => d > 0).length };
  return { ...r, report: { ...r.report, arms: { ...r.report.arms, win: { ...win, accuracy: { ...win.accuracy, perSeed } } }, paired: { ...r.report.paired, 'win-scratch': pairedWin } } };
}

describe('the list against its earlier run', () => {
  it('pairs win by seed across the runs and counts each run against the goal', () => {
    const now: OutsideResults = Object.fromEntries(Object.entries(then).map(([id, r]) => [id, id === 'mlp-30x16' ? movedSecondSeed(r, 0.2) : r]));
    const table = outsideRunsTable(now, then, 'before');
    const row = table.split('\n').find((line) => line.startsWith('| `mlp-30x16` |'))!;
    assert.match(row, /\| \+10\.00 \(1 of 2\) \|$/);
    assert.match(row, /\| -1\.13 \(1 of 2\) \| \+8\.87 \(1 of 2\) \|/);
    assert.match(table.split('\n').find((line) => line.startsWith('| `mlp-10x48` |'))!, /\| \+0\.00 \(0 of 2\) \|$/);
    assert.match(table, /- before: \*\*win ahead of scratch on 8 of 13\*\*/);
    assert.match(table, /- now: \*\*win ahead of scratch on 9 of 13\*\*/);
  });

  it('leaves out a setting that one run lacks', () => {
    const { 'cnn-6x8': _gone, ...now } = then;
    const table = outsideRunsTable(now, then, 'before');
    assert.ok(!table.includes('`cnn-6x8`'));
    assert.match(table, /The 12 settings that ran as listed in both runs/);
  });
});
