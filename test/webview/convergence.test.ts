// The imitation monitor's convergence rule on curves shaped like the ones the sidecar reports: one
// mini-batch loss every few steps, so a flat curve far below its start still swings widely.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyBlock, type LossPoint } from '../../webview/lib/convergence';

const curve = (losses: number[]): LossPoint[] => losses.map((loss, i) => ({ step: i * 10, loss }));

/** Deterministic noise in [-1, 1) (a linear congruential generator), so the cases never flake. */
function noise(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) % 4294967296;
    return (2 * state) / 4294967296 - 1;
  };
}

/** 2.0 falling to 0.016 over the first 30% of points, then flat there; each point one mini-batch's
 *  loss, log-normal around the curve (a few batches cost several times the typical one). */
function flatLow(seed: number): number[] {
  const r = noise(seed);
  const spread = () => Math.exp(0.5 * (r() + r() + r()) * 1.4);
  return Array.from({ length: 300 }, (_, i) => (i < 90 ? 2 * (0.016 / 2) ** (i / 90) : 0.016) * (i === 0 ? 1 : spread()));
}

describe('convergence rule', () => {
  it('a flat curve at under 1% of its start is converged, not diverging, in plain words with the numbers on hover', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const verdict = classifyBlock(curve(flatLow(seed)), false);
      assert.equal(verdict.state, 'converged', `seed ${seed}: ${verdict.rule}`);
      assert.match(verdict.rule, /^converged: loss fell to \d\.\d% of its start and is flat$/);
    }
    const verdict = classifyBlock(curve(flatLow(1)), false);
    assert.match(verdict.detail, /median of the last 30 points 0\.01\d/);
    assert.match(verdict.detail, /noise ±\d+%/);
  });

  it('a curve that rose well above its own lowest level is diverging', () => {
    const r = noise(3);
    const rising = Array.from({ length: 200 }, (_, i) => (i < 80 ? 2 - 1.5 * (i / 80) : 0.5 + 1.2 * ((i - 80) / 120)) * (1 + 0.1 * r()));
    const verdict = classifyBlock(curve(rising), false);
    assert.equal(verdict.state, 'diverging', verdict.rule);
    assert.match(verdict.rule, /^diverging: loss rose to \d\.\dx its lowest, back to \d+% of its start$/);
  });

  it('a noisy curve that keeps falling is still running, and done (not converged) once its phase ends', () => {
    const r = noise(11);
    const falling = Array.from({ length: 1000 }, (_, i) => 2 * 0.01 ** (i / 1000) * (1 + 0.3 * r()));
    const running = classifyBlock(curve(falling), false);
    assert.equal(running.state, 'running', running.rule);
    assert.match(running.rule, /^still falling: loss at \d\.\d% of its start, \d+% lower than just before$/);
    const done = classifyBlock(curve(falling), true);
    assert.equal(done.state, 'done', done.rule);
    assert.match(done.rule, /^finished while still falling/);
  });

  it('a small rise far below the start is "rising again", not diverging', () => {
    const r = noise(5);
    const creeping = Array.from({ length: 200 }, (_, i) => (i < 100 ? 2 * 0.005 ** (i / 100) : 0.01 * 1.025 ** (i - 100)) * (1 + 0.05 * r()));
    const verdict = classifyBlock(curve(creeping), false);
    assert.equal(verdict.state, 'running', verdict.rule);
    assert.match(verdict.rule, /^rising again: loss at [\d.]+% of its start, \d+\.\dx its lowest$/);
  });

  it('a flat curve above half its start is not converged', () => {
    const verdict = classifyBlock(curve([2, 1.8, 1.5, 1.3, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2]), true);
    assert.equal(verdict.state, 'done', verdict.rule);
    assert.match(verdict.rule, /^finished flat at 60% of its start \(converged needs under 50%\)$/);
  });

  it('NaN is diverging; too few points are not judged; no points is queued', () => {
    assert.equal(classifyBlock(curve([2, 1, Number.NaN]), false).state, 'diverging');
    assert.match(classifyBlock(curve([2, 1, Number.NaN]), false).rule, /the loss became NaN at step 20/);
    assert.equal(classifyBlock(curve([2, 1, 0.5]), false).state, 'running');
    assert.match(classifyBlock(curve([2, 1, 0.5]), true).rule, /too few points to judge \(3 of 6\)/);
    assert.equal(classifyBlock([], false).state, 'queued');
  });

  it('a flat but noisy tail of alternating mini-batch losses is converged; a steady fall is not noise', () => {
    const alternating = Array.from({ length: 100 }, (_, i) => (i < 50 ? 2 - i * 0.038 : 0.1) * (i % 2 === 0 ? 1.3 : 0.7));
    assert.equal(classifyBlock(curve(alternating), true).state, 'converged');
    const falling = Array.from({ length: 100 }, (_, i) => 2 * 0.97 ** i);
    assert.equal(classifyBlock(curve(falling), true).state, 'done');
  });
});
