// The monitor's incremental imitation curves: records added once, replays ignored, blocks ordered,
// and decimation that keeps the envelope and any non-finite loss.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetricRecord } from '../../server/protocol';
import { decimate, ImitationCurves, PLOT_BUCKETS } from '../../webview/lib/imitation-curves';

const record = (seq: number, block: number, step: number, loss: number, extra: Partial<MetricRecord> = {}): MetricRecord =>
  ({ runId: 'r', seq, seed: 1, phase: 'imitate', block, step, loss, split: 'train', time: 0, ...extra });

describe('ImitationCurves', () => {
  it('adds each record once, in step order, and only imitation training steps', () => {
    const curves = new ImitationCurves();
    curves.add([record(0, 0, 0, 2), record(2, 0, 2, 1), record(1, 0, 1, 1.5)]);
    curves.add([record(2, 0, 2, 1), record(3, 0, 3, 0.5, { split: 'validation' }), record(4, 0, 4, 9, { phase: 'wide', block: undefined })]);
    assert.deepEqual(curves.block(0).get(1)!.map((p) => [p.step, p.loss]), [[0, 2], [1, 1.5], [2, 1]]);
    assert.deepEqual([...curves.takeChanged()], [0]);
    assert.deepEqual([...curves.takeChanged()], [], 'changes are taken once');
  });

  it('knows which blocks exist, which came last and which have a later block started', () => {
    const curves = new ImitationCurves();
    curves.add([record(0, 0, 0, 1), record(1, 2, 0, 1)]);
    assert.equal(curves.blockCount(), 3);
    assert.equal(curves.lastBlock(), 2);
    assert.equal(curves.laterBlockStarted(0, 1), true);
    assert.equal(curves.laterBlockStarted(2, 1), false);
    assert.equal(curves.laterBlockStarted(0, 7), false, 'per seed');
  });

  it('restores from its saved form and ignores a host replaying the records it already has', () => {
    const curves = new ImitationCurves();
    const records = Array.from({ length: 10 }, (_, i) => record(i, 0, i, 1 / (i + 1)));
    curves.add(records);
    const restored = new ImitationCurves(JSON.parse(JSON.stringify(curves.save())));
    restored.add(records);
    assert.equal(restored.block(0).get(1)!.length, 10);
    restored.add([record(10, 0, 10, 0.05)]);
    assert.equal(restored.block(0).get(1)!.length, 11, 'new records still arrive');
  });

  it('saves and draws decimated curves', () => {
    const curves = new ImitationCurves();
    curves.add(Array.from({ length: 10 * PLOT_BUCKETS }, (_, i) => record(i, 0, i, 1 + Math.sin(i))));
    assert.ok(curves.drawn(0).get(1)!.length <= 2 * PLOT_BUCKETS);
    assert.ok(curves.save().curves[0].points.length <= 2 * PLOT_BUCKETS);
    assert.equal(curves.block(0).get(1)!.length, 10 * PLOT_BUCKETS, 'the full curve stays for the convergence rule');
  });
});

describe('decimate', () => {
  const points = Array.from({ length: 10_000 }, (_, i) => ({ step: i, loss: 1 + Math.sin(i / 10) }));

  it('returns short curves unchanged', () => {
    assert.deepEqual(decimate(points.slice(0, 50), 100), points.slice(0, 50));
  });

  it('keeps each bucket low and high, in step order, so the envelope survives', () => {
    const out = decimate(points, 100);
    assert.ok(out.length <= 200 && out.length >= 100);
    for (let i = 1; i < out.length; i++) assert.ok(out[i].step > out[i - 1].step, 'steps increase');
    assert.equal(Math.min(...out.map((p) => p.loss)), Math.min(...points.map((p) => p.loss)));
    assert.equal(Math.max(...out.map((p) => p.loss)), Math.max(...points.map((p) => p.loss)));
  });

  it('keeps a non-finite loss, which the plot and the convergence rule must see', () => {
    const withNaN = points.map((p) => (p.step === 4321 ? { ...p, loss: NaN } : p));
    assert.ok(decimate(withNaN, 100).some((p) => p.step === 4321 && Number.isNaN(p.loss)));
  });
});
