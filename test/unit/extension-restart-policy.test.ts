import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backoffDelayMs,
  decideRestart,
  DEFAULT_RESTART_POLICY,
  recentCrashes,
  type RestartPolicy,
} from '../../extension/restart-policy';

const policy: RestartPolicy = { initialDelayMs: 1000, maxDelayMs: 8000, maxCrashes: 6, windowMs: 60_000 };

test('delays double per crash and stop at the cap', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, policy)), [1000, 2000, 4000, 8000, 8000, 8000]);
});

test('successive crashes inside the window restart with growing delays', () => {
  const crashes: number[] = [];
  const delays: number[] = [];
  let now = 0;
  for (let i = 0; i < 5; i++) {
    now += 500;
    crashes.push(now);
    const decision = decideRestart(crashes, now, policy);
    assert.equal(decision.action, 'restart');
    if (decision.action === 'restart') {
      assert.equal(decision.attempt, i + 1);
      delays.push(decision.delayMs);
    }
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000]);
});

test('gives up at maxCrashes inside the window, with a message naming the log and the setting', () => {
  const crashes = [1000, 2000, 3000, 4000, 5000, 6000];
  const decision = decideRestart(crashes, 6000, policy);
  assert.equal(decision.action, 'giveUp');
  if (decision.action === 'giveUp') {
    assert.equal(decision.crashes, 6);
    assert.match(decision.message, /6 times/);
    assert.match(decision.message, /output/);
    assert.match(decision.message, /gowide\.sidecar\.command/);
  }
});

test('crashes older than the window are forgotten, so a long-lived sidecar starts again at 1 s', () => {
  const crashes = [0, 1000, 2000, 3000, 4000];
  const now = 4000 + policy.windowMs + 10_000;
  assert.deepEqual(recentCrashes([...crashes, now], now, policy), [now]);
  const decision = decideRestart([...crashes, now], now, policy);
  assert.deepEqual(decision, { action: 'restart', delayMs: 1000, attempt: 1 });
});

test('the default policy starts at 1 s, caps at 30 s, and gives up after 5 crashes in 3 minutes', () => {
  assert.equal(backoffDelayMs(1, DEFAULT_RESTART_POLICY), 1000);
  assert.equal(backoffDelayMs(10, DEFAULT_RESTART_POLICY), 30_000);
  const crashes = [0, 10_000, 20_000, 30_000, 40_000];
  assert.equal(decideRestart(crashes.slice(0, 4), 30_000).action, 'restart');
  assert.equal(decideRestart(crashes, 40_000).action, 'giveUp');
});
