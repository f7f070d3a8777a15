// The orchestrator: plans a run (new, or continued from its folder: run-continuation.ts), runs each
// seed's pipeline (seed-pipeline.ts) and records everything through one RunRecorder
// (runs/run-recorder.ts). Setup errors (bad data) throw before the run folder exists; errors during
// training end the run with state "failed" (or "stopped") and an intact folder.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from '../data/types';
import { loadDataset } from '../data/load';
import type { Experiment } from '../experiment/types';
import { buildNet, buildProjection } from '../models';
import type { BackendName, PhaseName, ResumedFrom, RunSummary, StageName } from '../protocol';
import { readMetricsFile } from '../runs/metrics-log';
import { runPath } from '../runs/names';
import { journalText } from '../runs/run-journal';
import { RunRecorder, type RecordingPlan } from '../runs/run-recorder';
import { explainWriteError } from '../runs/write-errors';
import type { TrainingEvents } from '../training/service';
import type { NetFactory, StageContext } from './context';
import { DivergedError, StoppedError } from './errors';
import { READ_LOSS_EVERY } from './training/loss-readback';
import { planContinuation, type Continuation } from './run-continuation';
import { emptyOutcome, phasesOf, plannedSteps, planSeedWork, runSeed, type SeedOutcome } from './seed-pipeline';

export interface RunOptions {
  runsDir: string;
  /** The experiment file (recorded in the summary; data paths resolve against its folder). */
  experimentPath: string;
  signal?: AbortSignal;
  events?: Partial<TrainingEvents>;
  stages?: StageName;
  /** Exactly these phases instead of `stages` (a launched run's job: the phases of its job). */
  phases?: PhaseName[];
  /** Continue this existing run: it keeps its earlier stages, arms and metrics and adds the new ones. */
  runId?: string;
  /** With runId: finish what the run's last invocation planned, from its last good checkpoint. */
  resume?: boolean;
  /** A new run in a folder of this name (refused if it exists) instead of <experiment>-<timestamp>. */
  createAs?: string;
  /** Where the wide nets come from when another run folder trained them (a launched run's wide job):
   *  the wide phase counts as committed, and seed<S>-wide is restored from this checkpoint folder. */
  teacherCheckpoints?: string;
  backend?: BackendName;
  /** Override the seeds of the experiment. */
  seeds?: number[];
  factory?: NetFactory;
  /** Data per seed; defaults to loadDataset with the experiment's data settings. */
  loadData?: (seed: number, experiment: Experiment) => Promise<Dataset>;
  /** Read the losses back every this many steps (default READ_LOSS_EVERY). */
  readEvery?: number;
  /** Called once the run folder exists (the service maps run ids to stop handles). */
  onStarted?: (summary: RunSummary) => void;
}

export interface RunResult {
  summary: RunSummary;
  outcomes: SeedOutcome[];
  /** Set when an existing run was continued or resumed. */
  resumedFrom?: ResumedFrom;
}

const defaultFactory: NetFactory = { buildNet, buildProjection };

type RunPlan = Pick<Continuation, 'experiment' | 'journal' | 'work' | 'outcomes' | 'fresh'> & { continued?: RecordingPlan['continued'] };

/** A new run: every seed runs the planned phases from the start. */
function newRunPlan(experiment: Experiment, o: RunOptions): RunPlan {
  const seeds = o.seeds ?? experiment.seeds;
  const phases = o.phases ?? phasesOf(o.stages ?? 'all', experiment.baselines);
  const committed = new Set<PhaseName>(o.teacherCheckpoints ? ['wide'] : []);
  const work = new Map(seeds.map((seed) => [seed, planSeedWork(phases, { committed, blocks: 0 }, 'continue')]));
  return {
    experiment,
    journal: { format: 'gowide-journal-1', plan: { phases, seeds }, entries: [] },
    work,
    outcomes: new Map(seeds.map((seed) => [seed, emptyOutcome(seed)])),
    fresh: new Set(phases),
  };
}

/** A continued run, planned from its folder before it is opened (the data to load depends on the plan). */
function continuedRunPlan(fromFile: Experiment, o: RunOptions & { runId: string }): RunPlan {
  const runDir = runPath(o.runsDir, o.runId);
  if (!fs.existsSync(path.join(runDir, 'experiment.json'))) throw new Error(`run ${o.runId} not found in ${o.runsDir}`);
  const plannedFrom = journalText(runDir);
  const c = planContinuation({
    runDir,
    checkpointDir: path.join(runDir, 'checkpoints'),
    current: fromFile,
    mode: o.resume ? 'resume' : 'continue',
    stages: o.resume ? o.phases : (o.phases ?? phasesOf(o.stages ?? 'all', fromFile.baselines)),
    seeds: o.seeds,
    wideElsewhere: o.teacherCheckpoints !== undefined,
    metricsCount: readMetricsFile(path.join(runDir, 'metrics.jsonl')).length,
  });
  return { ...c, continued: { runId: o.runId, plannedFrom, previous: c.previous, keepMetrics: c.keepMetrics, resumedFrom: c.resumedFrom, notes: c.notes } };
}

export async function runExperiment(fromFile: Experiment, o: RunOptions): Promise<RunResult> {
  const plan = o.runId ? continuedRunPlan(fromFile, { ...o, runId: o.runId }) : newRunPlan(fromFile, o);
  const experiment = plan.experiment;
  const seeds = plan.journal.plan.seeds;
  const seedsWithWork = seeds.filter((seed) => plan.work.get(seed)!.run.length > 0);
  const loadData = (seed: number) =>
    o.loadData ? o.loadData(seed, experiment) : loadDataset(experiment.data, path.dirname(path.resolve(o.experimentPath)), seed);
  // Load (and so check) the first seed's data before any folder is created or changed.
  const firstSeed = seedsWithWork[0] ?? seeds[0];
  const firstData = await loadData(firstSeed);
  const firstContext = { experiment, data: firstData, seed: firstSeed, factory: o.factory ?? defaultFactory } as StageContext;
  const seedSteps = (seed: number) => Object.values(plannedSteps(firstContext, plan.work.get(seed)!.run)).reduce((a, b) => a + (b ?? 0), 0);

  const recorder = RunRecorder.start({
    runsDir: o.runsDir,
    experimentPath: o.experimentPath,
    experiment,
    journal: plan.journal,
    outcomes: plan.outcomes,
    fresh: plan.fresh,
    toRun: seedsWithWork.flatMap((seed) => plan.work.get(seed)!.run),
    totalSteps: seedsWithWork.reduce((sum, seed) => sum + seedSteps(seed), 0),
    first: { seed: firstSeed, phase: plan.work.get(firstSeed)?.run[0] ?? plan.journal.plan.phases[0] },
    backend: o.backend,
    events: o.events ?? {},
    continued: plan.continued,
    runId: o.createAs,
    teacherCheckpoints: o.teacherCheckpoints,
  });
  o.onStarted?.(structuredClone(recorder.summary));

  let failure: Parameters<RunRecorder['end']>[0];
  try {
    for (const seed of seedsWithWork) {
      const data = seed === firstSeed ? firstData : await loadData(seed);
      const rec = recorder.seed(seed);
      const ctx: StageContext = {
        experiment,
        data,
        seed,
        factory: o.factory ?? defaultFactory,
        report: rec,
        signal: o.signal,
        readEvery: o.readEvery ?? READ_LOSS_EVERY,
      };
      await runSeed(ctx, plan.work.get(seed)!, rec, rec.outcome);
      recorder.publish();
    }
  } catch (caught) {
    // A raw file-system error (a full disk, a folder without permission) is told with its path and a fix.
    const err = explainWriteError(caught);
    failure = {
      state: err instanceof StoppedError || o.signal?.aborted ? 'stopped' : 'failed',
      error: err instanceof Error ? err.message : String(err),
      diverged: err instanceof DivergedError ? err.place : undefined,
    };
  } finally {
    recorder.end(failure);
  }
  return { summary: recorder.summary, outcomes: seeds.map((seed) => plan.outcomes.get(seed)!).filter(Boolean), resumedFrom: recorder.resumedFrom };
}
