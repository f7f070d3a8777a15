// Planning a continued or resumed run: which commit point of the journal it picks up from (falling
// back past bad checkpoints), what each seed still has to do, and which settings each phase takes.
import * as path from 'node:path';
import type { Experiment } from '../experiment/types';
import type { PhaseName, ResumedFrom, RunSummary } from '../protocol';
import { findResumePoint } from '../runs/resume-point';
import { readJournal, seedProgress, type JournalCommit, type JournalEntry, type RunJournal, type RunPlan } from '../runs/run-journal';
import { readSummary } from '../runs/list';
import { continuedExperiment, readRunExperiment } from '../runs/stage-settings';
import { checkpointNames, emptyOutcome, phasesOf, planSeedWork, type SeedOutcome, type SeedWork } from './seed-pipeline';

export interface Continuation {
  experiment: Experiment;
  journal: RunJournal<SeedOutcome>;
  /** Metric records to keep: seq 0..keepMetrics-1. */
  keepMetrics: number;
  work: Map<number, SeedWork>;
  outcomes: Map<number, SeedOutcome>;
  /** Phases that start from their beginning (they take the experiment file's current settings). */
  fresh: Set<PhaseName>;
  previous?: RunSummary;
  resumedFrom: Omit<ResumedFrom, 'droppedMetrics'>;
  notes: string[];
}

const seedPrefix = (seed: number) => `seed${seed}-`;

export function planContinuation(o: {
  runDir: string;
  checkpointDir: string;
  current: Experiment;
  mode: 'resume' | 'continue';
  /** The stage selection asked for (continue mode; resume mode: the plan of a run that never wrote its journal). */
  stages: PhaseName[] | undefined;
  /** The wide nets are committed in another run folder (a launched run's wide job), not in this one. */
  wideElsewhere?: boolean;
  seeds?: number[];
  metricsCount: number;
}): Continuation {
  const previous = readSummary(o.runDir);
  const base = readRunExperiment(o.runDir) ?? o.current;
  const unfinished = (previous?.stages ?? []).filter((s) => s.state !== 'done').map((s) => s.stage);
  // A run folder without a journal was left by a process that ended before writing it (right after
  // creating the folder): nothing was committed, and its unfinished stages run from the start.
  const journal: RunJournal<SeedOutcome> = readJournal<SeedOutcome>(o.runDir) ?? {
    format: 'gowide-journal-1',
    plan: { phases: unfinished.length > 0 ? unfinished : (o.stages ?? phasesOf('all', base.baselines)), seeds: o.seeds ?? base.seeds },
    entries: [],
  };
  const plan: RunPlan =
    o.mode === 'resume'
      ? { phases: journal.plan.phases, seeds: o.seeds ?? journal.plan.seeds }
      : { phases: o.stages ?? phasesOf('all', o.current.baselines), seeds: o.seeds ?? base.seeds };

  const progressOf = (prefix: readonly JournalEntry<SeedOutcome>[], seed: number) => {
    const progress = seedProgress(prefix, seed);
    if (o.wideElsewhere) progress.committed.add('wide');
    return progress;
  };
  const workFor = (prefix: readonly JournalEntry<SeedOutcome>[]) => new Map(plan.seeds.map((seed) => [seed, planSeedWork(plan.phases, progressOf(prefix, seed), o.mode)]));
  // A wide net committed elsewhere is verified when it is restored, not as one of this run's commit points.
  const ownRestores = (w: SeedWork) => w.restores.filter((name) => !(o.wideElsewhere && name === checkpointNames.wide));
  const point = findResumePoint(journal.entries, o.checkpointDir, (prefix) => [...workFor(prefix)].flatMap(([seed, w]) => ownRestores(w).map((name) => seedPrefix(seed) + name)));
  const kept = journal.entries.slice(0, point.index + 1);
  const work = workFor(kept);

  const outcomes = new Map<number, SeedOutcome>();
  for (const seed of new Set([...kept.map((e) => e.seed), ...plan.seeds])) {
    const carried = seedProgress(kept, seed).outcome;
    outcomes.set(seed, carried ? structuredClone(carried) : emptyOutcome(seed));
  }

  const resuming = new Set<PhaseName>();
  for (const w of work.values()) if (w.imitateFromBlock > 0) resuming.add('imitate');
  const fresh = new Set<PhaseName>();
  for (const w of work.values()) for (const p of w.run) if (!resuming.has(p)) fresh.add(p);
  const retried: PhaseName[] = [];
  if (o.mode === 'resume') {
    // The crashed invocation's phases keep the settings they began with, except a phase that failed
    // (a loss that became NaN): resumed unchanged it would fail again, so it takes the edited settings.
    const failed = new Set((previous?.stages ?? []).filter((s) => s.state === 'failed').map((s) => s.stage));
    for (const p of [...fresh]) if (!failed.has(p) && (kept.some((e) => e.phase === p) || journal.entries.some((e) => e.phase === p))) fresh.delete(p);
    for (const p of failed) {
      if (![...work.values()].some((w) => w.run.includes(p))) continue;
      fresh.add(p);
      retried.push(p);
    }
  }
  const ran = new Set<PhaseName>([...journal.entries.map((e) => e.phase), ...(previous?.stages ?? []).filter((s) => s.state !== 'queued').map((s) => s.stage)]);
  const settings = continuedExperiment(o.runDir, o.current, [...fresh], [...ran]);
  for (const p of retried) settings.notes.push(`${p} failed last time; it is resumed with the experiment file's current settings`);

  const firstEntry = journal.entries[0];
  const keepMetrics = point.commit ? point.commit.metricsSeq : firstEntry ? Math.min(...journal.entries.map((e) => e.metricsSeq)) : o.metricsCount;
  const commit: JournalCommit<SeedOutcome> | undefined = point.commit;
  return {
    experiment: settings.experiment,
    journal: { ...journal, plan, entries: kept },
    keepMetrics: Math.min(keepMetrics, o.metricsCount),
    work,
    outcomes,
    fresh,
    previous,
    resumedFrom: {
      stage: commit?.phase ?? null,
      block: commit?.block ?? null,
      seed: commit?.seed ?? null,
      checkpoint: commit ? path.join('checkpoints', commit.checkpoint) : null,
      messages: point.messages,
    },
    notes: settings.notes,
  };
}
