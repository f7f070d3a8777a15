// A study's run under its earlier defaults, kept beside the current one (scripts/evidence/earlier-defaults.ts):
// the table reads both kept files and pairs the two win arms seed by seed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { earlierDefaultsTable } from '../../scripts/evidence/earlier-defaults';
import type { StudyResult } from '../../scripts/evidence/run-study';
import { screenTable, type Screen } from '../../scripts/evidence/screen-report';
import { STUDIES } from '../../scripts/evidence/studies';

const EVIDENCE = join(__dirname, '..', '..', 'docs', 'evidence');
const kept = (file: string) => JSON.parse(readFileSync(join(EVIDENCE, file), 'utf8')) as StudyResult;

/** A copy of a kept result whose win arm is `shift` higher on every seed, widened inside. */
function shifted(r: StudyResult, shift: number, seeds = r.seeds): StudyResult {
  const win = r.report.arms.win!;
  const perSeed = seeds.map((s) => win.accuracy.perSeed[r.seeds.indexOf(s)] + shift);
  return {
    ...r,
    seeds,
    experiment: { ...r.experiment, widen: { ...r.experiment.widen, mode: 'inside' } },
    report: { ...r.report, arms: { ...r.report.arms, win: { ...win, accuracy: { ...win.accuracy, perSeed } } } },
    ranOn: r.ranOn && { ...r.ranOn, commit: 'abc1234' },
    finishedAt: `${r.finishedAt} shifted ${shift}`,
  };
}

describe('a study against its earlier defaults', () => {
  it('every study that names an earlier run has it kept in docs/evidence/', () => {
    const named = STUDIES.flatMap((s) => (s.earlier ?? []).map((e) => [s.id, e.json]));
    assert.ok(named.length > 0);
    for (const [id, json] of named) assert.ok(existsSync(join(EVIDENCE, json)), `${id}: ${json}`);
  });

  it('shows every run, oldest first, and pairs the win arms with each earlier run by the seeds both ran', () => {
    // The transformer's first earlier run widened whole layers; its later ones widen inside.
    const study = STUDIES.find((s) => s.id === 'transformer')!;
    const earlier = kept(study.earlier![0].json);
    assert.equal(earlier.experiment.widen.mode, 'all');
    const longer = { ...earlier, experiment: { ...earlier.experiment, wide: { ...earlier.experiment.wide, epochs: 99 } }, finishedAt: 'later' };
    const table = earlierDefaultsTable(shifted(earlier, 0.01), [
      { result: earlier, label: 'before' },
      { result: shifted(longer, 0.03), label: 'later' },
    ]);
    const lines = table!.split('\n');
    assert.match(lines[2], new RegExp(`^\\| earlier: before \\(widened whole layers, factor 4; wide net ${earlier.experiment.wide.epochs} epochs\\) \\| `));
    assert.match(lines[3], /^\| earlier: later \(widened inside each block, factor 4; wide net 99 epochs\) \| .* \| abc1234 \|$/);
    assert.match(lines[4], /^\| now \(widened inside each block, factor 4; wide net \d+ epochs\) \| .* \| abc1234 \|$/);
    const all = earlier.seeds.join(', ');
    const n = earlier.seeds.length;
    assert.match(table!, new RegExp(`- Win now - win before, paired by seed \\(seeds ${all}\\): \\+1\\.00 points, 95% interval \\+1\\.00 to \\+1\\.00, ahead on ${n} of ${n}\\.`));
    assert.match(table!, new RegExp(`- Win now - win later, paired by seed \\(seeds ${all}\\): -2\\.00 points, 95% interval -2\\.00 to -2\\.00, ahead on 0 of ${n}\\.`));
    // The current run itself, copied aside before a re-run, is not shown as an earlier one.
    assert.equal(earlierDefaultsTable(earlier, [{ result: earlier, label: 'copy' }]), undefined);
    assert.ok(!earlierDefaultsTable(earlier, [{ result: earlier, label: 'copy' }, { result: longer, label: 'other' }])!.includes('copy'));
    // Only seeds both runs have are paired; one seed has no interval.
    const one = earlierDefaultsTable(shifted(earlier, -0.02, [earlier.seeds[1]]), [{ result: earlier, label: 'before' }]);
    assert.match(one!, new RegExp(`\\(seeds ${earlier.seeds[1]}\\): -2\\.00 points, ahead on 0 of 1\\.`));
  });
});

describe('a kept screen of variants', () => {
  const screenFile = STUDIES.find((s) => s.screen)!.screen!;
  const screen = JSON.parse(readFileSync(join(EVIDENCE, screenFile), 'utf8')) as Screen;

  it('pairs every variant with the one scratch run, seed by seed', () => {
    const table = screenTable(screen);
    const scratch = screen.variants.find((v) => v.report.arms.scratch)!.report.arms.scratch!.accuracy.perSeed;
    for (const v of screen.variants) {
      const win = v.report.arms.win!.accuracy.perSeed;
      const mean = win.reduce((s, w, i) => s + w - scratch[i], 0) / win.length;
      const row = table.split('\n').find((line) => line.startsWith(`| \`${v.name}\` |`));
      assert.ok(row, v.name);
      assert.ok(row.includes(`| ${mean >= 0 ? '+' : ''}${(mean * 100).toFixed(2)} (`), row);
    }
    assert.match(table, new RegExp(`seeds ${screen.seeds.join(', ')}; .*at ${screen.ranOn.commit}\\.$`));
  });

  it('says so when no variant ran scratch', () => {
    const without = { ...screen, variants: screen.variants.map((v) => ({ ...v, report: { ...v.report, arms: { ...v.report.arms, scratch: undefined } } })) };
    assert.match(screenTable(without), /\| no scratch run \|/);
    assert.match(screenTable(without), /no scratch arm\./);
  });
});
