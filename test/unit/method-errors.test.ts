// A diverged phase's message names the setting that phase trains with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DivergedError } from '../../server/method/errors';
import { BASELINE_NAMES } from '../../server/protocol';

test('a diverged baseline points at wide.learningRate (the standard schedule it trains with)', () => {
  for (const phase of BASELINE_NAMES) {
    const error = new DivergedError({ phase, seed: 2 }, 40, NaN);
    assert.match(error.message, new RegExp(`phase "${phase}" \\(seed 2\\) at step 40\\. Fix: lower wide\\.learningRate`));
  }
});

test('wide and fine-tune point at their own learning rate, imitation at its own settings', () => {
  assert.match(new DivergedError({ phase: 'finetune', seed: 1 }, 3, Infinity).message, /Fix: lower finetune\.learningRate\.$/);
  assert.match(new DivergedError({ phase: 'wide', seed: 1 }, 3, NaN).message, /Fix: lower wide\.learningRate\.$/);
  assert.match(new DivergedError({ phase: 'imitate', seed: 1, block: 2 }, 3, NaN).message, /block 2 .*Fix: lower imitate\.learningRate/);
});
