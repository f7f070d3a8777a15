// Accuracy against budget, as the compare panel and the evidence study draw it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetricRecord, PhaseName } from '../../server/protocol';
import { budgetBands, budgetCurves } from '../../webview/lib/budget-curves';

let seq = 0;
const validation = (seed: number, phase: PhaseName, epoch: number, accuracy: number, block?: number): MetricRecord =>
  ({ runId: 'r', seq: seq++, seed, phase, block, step: 0, epoch, loss: 1, accuracy, split: 'validation', time: 0 });

/** One seed: wide 2 epochs, imitation worth 4 epochs ending at the warm start, fine-tune 2 epochs, scratch 6. */
function seedRecords(seed: number, lift: number): MetricRecord[] {
  return [
    validation(seed, 'wide', 1, 0.5 + lift), validation(seed, 'wide', 2, 0.6 + lift),
    { ...validation(seed, 'imitate', 0, 0, 0), accuracy: undefined, imitationLoss: 1 },
    validation(seed, 'imitate', 4, 0.3 + lift),
    validation(seed, 'finetune', 1, 0.55 + lift), validation(seed, 'finetune', 2, 0.58 + lift),
    ...[1, 2, 3, 4, 5, 6].map((e) => validation(seed, 'scratch', e, 0.1 * e - 0.05 + lift)),
    { runId: 'r', seq: seq++, seed, phase: 'scratch', step: 90, loss: 0.5, accuracy: 0.9, split: 'test', time: 0 },
  ];
}

describe('accuracy against budget', () => {
  it("puts win's fine-tuning after the imitation epochs its warm-start record names, starting at the warm start", () => {
    const curves = budgetCurves(seedRecords(1, 0));
    const one = curves.get('r seed 1')!;
    assert.deepEqual(one.win, [{ epochs: 4, accuracy: 0.3 }, { epochs: 5, accuracy: 0.55 }, { epochs: 6, accuracy: 0.58 }]);
    assert.deepEqual(one.wide?.map((p) => p.epochs), [1, 2]);
    assert.deepEqual(one.scratch?.map((p) => p.epochs), [1, 2, 3, 4, 5, 6], 'test and imitation-block records are not curve points');
    assert.equal(one.kd, undefined);
  });

  it('has no win curve before the warm start is recorded', () => {
    const records = seedRecords(1, 0).filter((r) => !(r.phase === 'imitate' && r.block === undefined));
    assert.equal(budgetCurves(records).get('r seed 1')!.win, undefined);
  });

  it('bands: mean, lowest and highest over seeds at the budgets every seed reached', () => {
    const records = [...seedRecords(1, 0), ...seedRecords(2, 0.1).filter((r) => !(r.phase === 'scratch' && r.epoch === 6))];
    const bands = budgetBands([...budgetCurves(records).values()]);
    assert.equal(bands.scratch!.length, 5, 'seed 2 has not reached epoch 6');
    const win = bands.win!;
    assert.deepEqual(win.map((p) => p.epochs), [4, 5, 6]);
    assert.ok(Math.abs(win[1].mean - 0.6) < 1e-9);
    assert.ok(Math.abs(win[1].min - 0.55) < 1e-9 && Math.abs(win[1].max - 0.65) < 1e-9);
  });
});
