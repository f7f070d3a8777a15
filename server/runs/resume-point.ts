// Where a continued run picks up: the latest commit point of the journal whose needed checkpoints
// are all present and verify (sha256 of the binary, and the same sha256 as when committed). A corrupt,
// truncated or missing checkpoint is named in a message and the search falls back to the commit point
// before it, down to "nothing committed" (index -1: start the plan from the beginning). A commit point
// whose metrics.jsonl prefix (its first metricsBytes bytes) no longer has the sha256 recorded with it
// is passed over the same way: the records before it were damaged or edited after they were written,
// and an earlier point whose prefix still verifies recomputes them.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCheckpoint } from './checkpoint';
import type { JournalCommit, JournalEntry } from './run-journal';

export interface ResumePoint<Outcome = unknown> {
  /** Index into the journal entries of the chosen commit point; -1 when none is usable. */
  index: number;
  commit?: JournalCommit<Outcome>;
  /** One line per checkpoint that was found bad and per fallback. */
  messages: string[];
}

/**
 * @param needs checkpoint names a continuation from the prefix entries[0..i] restores; each must be
 *   committed in that prefix (the caller plans the work so that it is).
 */
export function findResumePoint<Outcome>(
  entries: readonly JournalEntry<Outcome>[],
  checkpointDir: string,
  needs: (prefix: readonly JournalEntry<Outcome>[]) => string[],
  /** The run's metrics.jsonl (beside the checkpoints folder unless given). */
  metricsFile = path.join(path.dirname(checkpointDir), 'metrics.jsonl'),
): ResumePoint<Outcome> {
  const messages: string[] = [];
  let metrics: Buffer | undefined;
  const metricsProblem = (commit: JournalCommit<Outcome>): string | undefined => {
    metrics ??= fs.existsSync(metricsFile) ? fs.readFileSync(metricsFile) : Buffer.alloc(0);
    if (metrics.length < commit.metricsBytes) {
      return `${metricsFile} is truncated: ${metrics.length} bytes, ${commit.metricsBytes} were written before ${describe(commit)}`;
    }
    const sha = createHash('sha256').update(metrics.subarray(0, commit.metricsBytes)).digest('hex');
    if (sha !== commit.metricsSha256) return `${metricsFile} was changed or damaged in its first ${commit.metricsBytes} bytes, written before ${describe(commit)} (sha256 differs)`;
    return undefined;
  };
  const verdicts = new Map<string, string | undefined>(); // "name@sha" -> problem (undefined: good)
  const problemOf = (commit: JournalCommit<Outcome>): string | undefined => {
    const key = `${commit.checkpoint}@${commit.sha256}`;
    if (!verdicts.has(key)) {
      let problem: string | undefined;
      try {
        const { index } = readCheckpoint(checkpointDir, commit.checkpoint);
        if (index.sha256 !== commit.sha256) problem = `checkpoint ${commit.checkpoint} was rewritten after it was committed (sha256 differs)`;
      } catch (err) {
        problem = `checkpoint ${commit.checkpoint}: ${err instanceof Error ? err.message : String(err)}`;
      }
      verdicts.set(key, problem);
      if (problem) messages.push(problem);
    }
    return verdicts.get(key);
  };

  let rejected: JournalCommit<Outcome> | undefined;
  for (let i = entries.length - 1; i >= -1; i--) {
    const entry = i >= 0 ? entries[i] : undefined;
    if (entry && entry.kind !== 'commit') continue;
    const prefix = entries.slice(0, i + 1);
    const latest = new Map<string, JournalCommit<Outcome>>();
    for (const e of prefix) if (e.kind === 'commit') latest.set(e.checkpoint, e);
    const bad = needs(prefix).some((name) => {
      const commit = latest.get(name);
      if (!commit) {
        messages.push(`checkpoint ${name} is needed but was never committed`);
        return true;
      }
      return problemOf(commit) !== undefined;
    });
    const metricsBad = !bad && entry ? metricsProblem(entry as JournalCommit<Outcome>) : undefined;
    if (metricsBad) messages.push(metricsBad);
    if (!bad && !metricsBad) {
      if (rejected) messages.push(`falling back to ${entry ? describe(entry as JournalCommit<Outcome>) : 'the start of the run (no usable checkpoint)'}`);
      return { index: i, commit: entry as JournalCommit<Outcome> | undefined, messages };
    }
    rejected ??= entry as JournalCommit<Outcome>;
  }
  return { index: -1, messages };
}

export function describe(commit: Pick<JournalCommit, 'seed' | 'phase' | 'block' | 'checkpoint'>): string {
  const where = commit.block === undefined ? commit.phase : `${commit.phase} block ${commit.block}`;
  return `checkpoint ${commit.checkpoint} (seed ${commit.seed}, ${where})`;
}
