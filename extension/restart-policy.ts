// When the training sidecar dies, decide whether and when to start it again.
// Pure: the caller keeps the crash times and the clock, so the policy is unit-tested without VS Code.

export interface RestartPolicy {
  /** Delay before the first restart after a crash. */
  initialDelayMs: number;
  /** Delays double per crash inside the window, up to this. */
  maxDelayMs: number;
  /** Give up once this many crashes fall inside the window. */
  maxCrashes: number;
  /** Crashes older than this no longer count. */
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxCrashes: 5,
  windowMs: 3 * 60_000,
};

export type RestartDecision =
  | { action: 'restart'; delayMs: number; attempt: number }
  | { action: 'giveUp'; crashes: number; message: string };

/** Crash times that still count at `nowMs`, oldest first. */
export function recentCrashes(crashTimesMs: readonly number[], nowMs: number, policy: RestartPolicy): number[] {
  return crashTimesMs.filter((t) => nowMs - t < policy.windowMs).sort((a, b) => a - b);
}

/** Backoff for the n-th crash in the window (1-based): initial, 2x, 4x, ... capped. */
export function backoffDelayMs(attempt: number, policy: RestartPolicy): number {
  const exponent = Math.max(0, attempt - 1);
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exponent);
}

/** `crashTimesMs` includes the crash being handled now. */
export function decideRestart(
  crashTimesMs: readonly number[],
  nowMs: number,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
): RestartDecision {
  const crashes = recentCrashes(crashTimesMs, nowMs, policy).length;
  if (crashes >= policy.maxCrashes) {
    const minutes = Math.round(policy.windowMs / 60_000);
    return {
      action: 'giveUp',
      crashes,
      message:
        `The Go Wide training sidecar stopped ${crashes} times in the last ${minutes} minutes and will not be ` +
        'restarted automatically. See the "Go Wide" output for its log, fix the cause (for example the ' +
        'gowide.sidecar.command setting), then restart it.',
    };
  }
  const attempt = Math.max(1, crashes);
  return { action: 'restart', delayMs: backoffDelayMs(attempt, policy), attempt };
}
