// Paired statistics of win against each baseline, against values computed by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pairedComparisons, pairedDifference, tQuantile975 } from '../../server/runs/paired';

const close = (actual: number | undefined, expected: number, tolerance = 1e-9) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected}`);

describe('paired differences', () => {
  it('uses the t quantile of seeds - 1 degrees of freedom', () => {
    // t(0.975): df 1 = tan(0.475 pi) exactly; df 2 = sqrt(2 / (4 p (1 - p)) - 2) at p = 0.975.
    close(tQuantile975(1), Math.tan(0.475 * Math.PI), 1e-4);
    close(tQuantile975(2), Math.sqrt(2 / (4 * 0.975 * 0.025) - 2), 1e-4);
    close(tQuantile975(4), 2.7764, 1e-4);
    close(tQuantile975(40), 2.0211, 1e-4);
    close(tQuantile975(1000), 1.9623, 1e-4);
    assert.throws(() => tQuantile975(0), /degrees of freedom/);
  });

  it('two seeds: mean 0.03, interval 0.03 +- 12.7062 x 0.01', () => {
    // differences 0.02 and 0.04: sd = 0.01 sqrt 2, standard error 0.01.
    const p = pairedDifference([0.02, 0.04]);
    close(p.mean, 0.03);
    close(p.low, 0.03 - 0.127062, 1e-6);
    close(p.high, 0.03 + 0.127062, 1e-6);
    assert.equal(p.ahead, 2);
    assert.equal(p.seeds, 2);
  });

  it('three seeds: standard error 0.01 / sqrt 3, t 4.3027', () => {
    const p = pairedDifference([0.01, -0.01, 0.03]);
    close(p.mean, 0.01);
    // sd of (0.01, -0.01, 0.03) is 0.02; half width 4.3027 x 0.02 / sqrt 3 = 0.0496833
    close(p.high! - p.mean, 0.0496833, 1e-6);
    close(p.mean - p.low!, 0.0496833, 1e-6);
    assert.equal(p.ahead, 2);
  });

  it('five seeds: t 2.7764, and a tie is not ahead', () => {
    const p = pairedDifference([0, 0.01, 0.02, 0.03, 0.04]);
    close(p.mean, 0.02);
    // sd 0.0158114, standard error 0.00707107, half width 0.0196321
    close(p.low, 0.02 - 0.0196321, 1e-6);
    close(p.high, 0.02 + 0.0196321, 1e-6);
    assert.equal(p.ahead, 4);
    assert.equal(p.seeds, 5);
  });

  it('one seed: the difference, no interval', () => {
    const p = pairedDifference([-0.05]);
    assert.deepEqual(p, { mean: -0.05, ahead: 0, seeds: 1 });
    assert.equal(JSON.stringify(p), '{"mean":-0.05,"ahead":0,"seeds":1}');
  });

  it('pairs win with each baseline seed by seed, over the seeds both ran', () => {
    const paired = pairedComparisons([
      { test: { win: 0.6, scratch: 0.5, kd: 0.62, 'scratch-steps': 0.55 } },
      { test: { win: 0.7, scratch: 0.64, kd: 0.66 } },
      { test: { scratch: 0.9 } },
    ]);
    assert.deepEqual(Object.keys(paired), ['win-scratch', 'win-kd', 'win-scratch-steps']);
    close(paired['win-scratch']!.mean, 0.08);
    assert.equal(paired['win-scratch']!.seeds, 2);
    close(paired['win-kd']!.mean, 0.01);
    assert.equal(paired['win-kd']!.ahead, 1);
    assert.equal(paired['win-scratch-steps']!.seeds, 1);
    assert.equal(paired['win-scratch-steps']!.low, undefined);
  });
});
