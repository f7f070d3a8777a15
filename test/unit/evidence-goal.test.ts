// The study's headline table and the goal's verdict (scripts/evidence/report.ts), on a kept study result with
// its arms moved: the verdict is the claim the study makes, so each of its four conditions must be able
// to fail it, and each row says how long its teacher trained.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { headline, verdict, wideBudget } from '../../scripts/evidence/report';
import type { StudyResult } from '../../scripts/evidence/run-study';
import { STUDIES } from '../../scripts/evidence/studies';
import type { ArmName } from '../../server/protocol';

const EVIDENCE = join(__dirname, '..', '..', 'docs', 'evidence');
const kept = JSON.parse(readFileSync(join(EVIDENCE, 'cnn-wide-1x.json'), 'utf8')) as StudyResult;
const study = { ...kept, study: STUDIES.find((s) => s.id === 'cnn')! };

/** The result with each named arm's accuracy set to `mean` on every seed, and win - scratch's paired low bound set. */
function withArms(means: Partial<Record<ArmName, number>>, low = 0.01): StudyResult {
  const arms = { ...study.report.arms };
  for (const [arm, mean] of Object.entries(means) as [ArmName, number][]) {
    arms[arm] = { ...arms[arm]!, accuracy: { mean, std: 0, perSeed: study.seeds.map(() => mean) } };
  }
  const paired = { ...study.report.paired, 'win-scratch': { ...study.report.paired!['win-scratch']!, low } };
  return { ...study, report: { ...study.report, arms, paired } };
}

describe('the goal of every study setting', () => {
  const meets = { win: 0.8, scratch: 0.78, kd: 0.79, 'scratch-steps': 0.795 };

  it('is met when win is a point ahead of scratch with the interval above 0, at least kd, and ahead of scratch at its steps', () => {
    assert.equal(verdict(withArms(meets))!.met, true);
  });

  it('fails on each condition alone', () => {
    assert.equal(verdict(withArms({ ...meets, scratch: 0.791 }))!.met, false, 'less than a point over scratch');
    assert.equal(verdict(withArms(meets, -0.001))!.met, false, 'interval reaching below 0');
    assert.equal(verdict(withArms({ ...meets, kd: 0.801 }))!.met, false, 'behind kd');
    assert.equal(verdict(withArms({ ...meets, 'scratch-steps': 0.8 }))!.met, false, "not ahead of scratch at win's steps");
  });

  it('marks each headline row with its verdict and how long its teacher trained against the thin budget', () => {
    const twice = { ...withArms(meets), experiment: { ...study.experiment, wide: { ...study.experiment.wide, epochs: 2 * study.budgetEpochs } } };
    const table = headline([withArms({ ...meets, kd: 0.81 }), twice]).split('\n');
    assert.match(table[4], new RegExp(`^\\| Plain deep CNN \\(8 x 16, factor 4; wide net ${study.experiment.wide.epochs} epochs, 1x the thin budget\\) \\|.*\\| \\*\\*not met\\*\\* \\|$`));
    assert.match(table[5], new RegExp(`^\\| Plain deep CNN \\(8 x 16, factor 4; wide net ${2 * study.budgetEpochs} epochs, 2x the thin budget\\) \\|.*\\| met \\|$`));
    assert.equal(wideBudget({ ...study.experiment, wide: { ...study.experiment.wide, epochs: 17 } }), `wide net 17 epochs, ${Number((17 / study.budgetEpochs).toFixed(2))}x the thin budget`);
  });
});
