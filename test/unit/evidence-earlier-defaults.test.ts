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
  };
}

describe('a study against its earlier defaults', () => {
  it('every study that names an earlier run has it kept in docs/evidence/', () => {
    for (const s of STUDIES.filter((s) => s.earlier)) assert.ok(existsSync(join(EVIDENCE, s.earlier!.json)), `${s.id}: ${s.earlier!.json}`);
  });

  it('shows both runs and pairs the win arms by the seeds both ran', () => {
    const study = STUDIES.find((s) => s.earlier)!;
    const earlier = kept(study.earlier!.json);
    const table = earlierDefaultsTable(shifted(earlier, 0.01), earlier, 'before');
    const lines = table.split('\n');
    assert.match(lines[2], /^\| earlier: before \(widened whole layers, factor 4\) \| /);
    assert.match(lines[3], /^\| now \(widened inside each block, factor 4\) \| .* \| abc1234 \|$/);
    assert.match(table, new RegExp(`seeds ${earlier.seeds.join(', ')}\\): \\+1\\.00 points, 95% interval \\+1\\.00 to \\+1\\.00, ahead on ${earlier.seeds.length} of ${earlier.seeds.length}\\.`));
    // Only seeds both runs have are paired; one seed has no interval.
    const one = earlierDefaultsTable(shifted(earlier, -0.02, [earlier.seeds[1]]), earlier, 'before');
    assert.match(one, new RegExp(`\\(seeds ${earlier.seeds[1]}\\): -2\\.00 points, ahead on 0 of 1\\.`));
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
