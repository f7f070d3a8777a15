// progress.json: the run's journal of commit points. A commit point is written (atomically) when a
// phase of a seed, or one imitated block, is finished and its checkpoint is on disk; it names the
// checkpoint (with its sha256), how many metric records existed then (metricsSeq) and the seed's
// outcome so far. A "start" entry marks a phase begun afresh, superseding its earlier commits.
// Continuing or resuming a run picks the latest commit point whose checkpoints still verify, drops
// the metric records after it (they belong to unfinished work that is recomputed) and goes on.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PhaseName } from '../protocol';
import { writeJsonAtomic } from './atomic';

export interface JournalStart {
  kind: 'start';
  seed: number;
  phase: PhaseName;
  metricsSeq: number;
  at: string;
}

export interface JournalCommit<Outcome = unknown> {
  kind: 'commit';
  seed: number;
  phase: PhaseName;
  /** Set for one imitated block (phase "imitate"); absent when the whole phase is done. */
  block?: number;
  /** Checkpoint name in checkpoints/ (without extension). */
  checkpoint: string;
  sha256: string;
  /** Metric records written when this point was committed: seq 0..metricsSeq-1 belong before it. */
  metricsSeq: number;
  /** Bytes of metrics.jsonl then, and their sha256. */
  metricsBytes: number;
  metricsSha256: string;
  /** The seed's outcome (test accuracies, seconds, imitation losses) at this point. */
  outcome: Outcome;
  at: string;
}

export type JournalEntry<Outcome = unknown> = JournalStart | JournalCommit<Outcome>;

export interface RunPlan {
  /** Phases of the latest invocation, in order. */
  phases: PhaseName[];
  seeds: number[];
}

export interface RunJournal<Outcome = unknown> {
  format: 'gowide-journal-1';
  plan: RunPlan;
  entries: JournalEntry<Outcome>[];
}

const FILE = 'progress.json';

export function readJournal<Outcome>(runDir: string): RunJournal<Outcome> | undefined {
  const file = path.join(runDir, FILE);
  if (!fs.existsSync(file)) return undefined;
  const journal = JSON.parse(fs.readFileSync(file, 'utf8')) as RunJournal<Outcome>;
  if (journal.format !== 'gowide-journal-1' || !Array.isArray(journal.entries)) throw new Error(`${file} is not a gowide run journal`);
  return journal;
}

/** progress.json as text ('' when there is none): what a continuation was planned from. */
export function journalText(runDir: string): string {
  try {
    return fs.readFileSync(path.join(runDir, FILE), 'utf8');
  } catch {
    return '';
  }
}

export function writeJournal<Outcome>(runDir: string, journal: RunJournal<Outcome>): void {
  writeJsonAtomic(path.join(runDir, FILE), journal);
}

/** What a seed had finished by the end of `entries`: phases committed since their last start,
 *  imitated blocks of the current imitation, and the seed's latest outcome. */
export interface SeedProgress<Outcome = unknown> {
  committed: Set<PhaseName>;
  /** Blocks imitated (committed) since imitation last started: blocks 0..blocks-1. */
  blocks: number;
  /** Latest committed checkpoint per phase (and per block). */
  checkpoints: Map<string, JournalCommit<Outcome>>;
  outcome?: Outcome;
}

export function seedProgress<Outcome>(entries: readonly JournalEntry<Outcome>[], seed: number): SeedProgress<Outcome> {
  const progress: SeedProgress<Outcome> = { committed: new Set(), blocks: 0, checkpoints: new Map() };
  for (const entry of entries) {
    if (entry.seed !== seed) continue;
    if (entry.kind === 'start') {
      progress.committed.delete(entry.phase);
      if (entry.phase === 'imitate') progress.blocks = 0;
      continue;
    }
    progress.outcome = entry.outcome;
    progress.checkpoints.set(entry.checkpoint, entry);
    if (entry.block !== undefined) progress.blocks = Math.max(progress.blocks, entry.block + 1);
    else progress.committed.add(entry.phase);
  }
  return progress;
}
