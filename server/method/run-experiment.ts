// The orchestrator: seeds x (wide, win, baselines) into one run folder, with progress, streamed
// metrics and RunSummary updates. Setup errors (bad data) throw before the run folder exists;
// errors during training end the run with state "failed" (or "stopped") and an intact folder.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from '../data/types';
import { loadDataset } from '../data/load';
import type { Experiment } from '../experiment/types';
import { buildNet, buildProjection, saveLayersModel } from '../models';
import type { BlockNet } from '../models/types';
import { PHASE_NAMES, type BackendName, type MetricRecord, type PhaseName, type ResumedFrom, type RunState, type RunSummary, type StageName, type StageStatus } from '../protocol';
import { restoreCheckpoint } from '../runs/checkpoint';
import { readMetricsFile, type NewMetric } from '../runs/metrics-log';
import { runPath } from '../runs/names';
import { journalText, writeJournal, type JournalEntry } from '../runs/run-journal';
import { RunStore } from '../runs/run-store';
import { explainWriteError } from '../runs/write-errors';
import { readStageSnapshot, writeStageSnapshot } from '../runs/stage-settings';
import type { TrainingEvents } from '../training/service';
import type { NetFactory, StageContext, StageReporter } from './context';
import { DivergedError, StoppedError } from './errors';
import { READ_LOSS_EVERY } from './loss-readback';
import { ProgressTracker, Throttle } from './progress';
import { planContinuation, type Continuation } from './run-continuation';
import { emptyOutcome, phasesOf, plannedSteps, planSeedWork, runSeed, type SeedOutcome } from './seed-pipeline';
import { summarizeArms, summarizeDiagnostics } from './summary';

export interface RunOptions {
  runsDir: string;
  /** The experiment file (recorded in the summary; data paths resolve against its folder). */
  experimentPath: string;
  signal?: AbortSignal;
  events?: Partial<TrainingEvents>;
  stages?: StageName;
  /** Continue this existing run: it keeps its earlier stages, arms and metrics and adds the new ones. */
  runId?: string;
  /** With runId: finish what the run's last invocation planned, from its last good checkpoint. */
  resume?: boolean;
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

const STREAM_INTERVAL_MS = 200;
const defaultFactory: NetFactory = { buildNet, buildProjection };

/** A new run: every seed runs the planned phases from the start. */
function newRunPlan(experiment: Experiment, o: RunOptions): Pick<Continuation, 'experiment' | 'journal' | 'work' | 'outcomes' | 'fresh' | 'notes'> {
  const seeds = o.seeds ?? experiment.seeds;
  const phases = phasesOf(o.stages ?? 'all', experiment.baselines);
  const work = new Map(seeds.map((seed) => [seed, planSeedWork(phases, { committed: new Set(), blocks: 0 }, 'continue')]));
  return {
    experiment,
    journal: { format: 'gowide-journal-1', plan: { phases, seeds }, entries: [] },
    work,
    outcomes: new Map(seeds.map((seed) => [seed, emptyOutcome(seed)])),
    fresh: new Set(phases),
    notes: [],
  };
}

export async function runExperiment(fromFile: Experiment, o: RunOptions): Promise<RunResult> {
  const events = o.events ?? {};
  // A continued run: plan from its folder before opening it (the data to load depends on the plan).
  let continuation: Continuation | undefined;
  let plannedFrom: string | undefined;
  if (o.runId) {
    const runDir = runPath(o.runsDir, o.runId);
    if (!fs.existsSync(path.join(runDir, 'experiment.json'))) throw new Error(`run ${o.runId} not found in ${o.runsDir}`);
    plannedFrom = journalText(runDir);
    continuation = planContinuation({
      runDir,
      checkpointDir: path.join(runDir, 'checkpoints'),
      current: fromFile,
      mode: o.resume ? 'resume' : 'continue',
      stages: o.resume ? undefined : phasesOf(o.stages ?? 'all', fromFile.baselines),
      seeds: o.seeds,
      metricsCount: readMetricsFile(path.join(runDir, 'metrics.jsonl')).length,
    });
  }
  const plan = continuation ?? newRunPlan(fromFile, o);
  const experiment = plan.experiment;
  const journal = plan.journal;
  const seeds = journal.plan.seeds;
  const seedsWithWork = seeds.filter((seed) => plan.work.get(seed)!.run.length > 0);
  const loadData = (seed: number) =>
    o.loadData ? o.loadData(seed, experiment) : loadDataset(experiment.data, path.dirname(path.resolve(o.experimentPath)), seed);
  // Load (and so check) the first seed's data before any folder is created or changed.
  const firstSeed = seedsWithWork[0] ?? seeds[0];
  const firstData = await loadData(firstSeed);

  const store = o.runId ? RunStore.open(o.runsDir, o.runId, plannedFrom) : RunStore.create(o.runsDir, experiment, o.experimentPath);
  let resumedFrom: ResumedFrom | undefined;
  try {
    if (continuation) {
      const droppedMetrics = store.truncateMetrics(continuation.keepMetrics);
      resumedFrom = { ...continuation.resumedFrom, droppedMetrics };
      for (const message of [...resumedFrom.messages, ...continuation.notes]) events.onLog?.('warn', message);
      const from = continuation.resumedFrom;
      const where = from.stage === null ? 'the start (no usable checkpoint)' : `seed ${from.seed}, ${from.stage}${from.block === null ? '' : ` block ${from.block}`}`;
      events.onLog?.('info', `continuing run ${store.runId} from ${where}; ${droppedMetrics} metric records after it dropped`);
    }
    writeJournal(store.runDir, journal);
  } catch (err) {
    store.close();
    throw err;
  }

  const previous = continuation?.previous;
  const summary: RunSummary = {
    runId: store.runId,
    runDir: store.runDir,
    experiment: experiment.name,
    experimentPath: path.resolve(o.experimentPath),
    state: 'running',
    startedAt: previous?.startedAt ?? new Date().toISOString(),
    backend: o.backend ?? previous?.backend,
    stages: mergeStages(previous?.stages ?? [], seedsWithWork.flatMap((seed) => plan.work.get(seed)!.run)),
    arms: {},
  };
  const outcomes = plan.outcomes;
  const legacyArms = continuation && journal.entries.every((e) => e.kind !== 'commit' || e.outcome === undefined) ? previous?.arms ?? {} : {};
  let exported = previous?.diagnostics?.model;
  const publish = () => {
    const list = [...outcomes.values()];
    summary.arms = { ...legacyArms, ...summarizeArms(list) };
    summary.diagnostics = summarizeDiagnostics(list, exported ? { model: exported } : {});
    store.writeSummary(summary);
    events.onRunState?.(structuredClone(summary));
  };
  publish();
  o.onStarted?.(structuredClone(summary));

  // Metrics go to the file at once and to listeners in batches.
  let pending: MetricRecord[] = [];
  const metricThrottle = new Throttle(STREAM_INTERVAL_MS);
  const flushMetrics = () => {
    if (pending.length > 0) events.onMetrics?.(store.runId, pending);
    pending = [];
  };
  const firstContext = { experiment, data: firstData, seed: firstSeed } as StageContext;
  const totalSteps = seedsWithWork.reduce((sum, seed) => sum + Object.values(plannedSteps(firstContext, plan.work.get(seed)!.run)).reduce((a, b) => a + b, 0), 0);
  const tracker = new ProgressTracker(Math.max(1, totalSteps));
  const progressThrottle = new Throttle(STREAM_INTERVAL_MS);
  let current: { seed: number; phase: PhaseName; block?: number } = { seed: firstSeed, phase: plan.work.get(firstSeed)?.run[0] ?? journal.plan.phases[0] };
  const sendProgress = (message: string) => {
    events.onProgress?.({
      runId: store.runId,
      phase: current.phase,
      seed: current.seed,
      block: current.block,
      fraction: tracker.fraction,
      etaSeconds: tracker.etaSeconds,
      message,
    });
  };

  const reporter = (seed: number): StageReporter => ({
    metric: (record: NewMetric) => {
      pending.push(...store.appendMetrics([sanitize(record)]));
      if (metricThrottle.due()) flushMetrics();
    },
    steps: (phase, block, done, total) => {
      tracker.update(seed, phase, block, done);
      current = { seed, phase, block };
      if (progressThrottle.due() || done === total) {
        const where = block === undefined ? phase : `${phase} block ${block + 1}`;
        sendProgress(`seed ${seed}: ${where}, step ${done}/${total}`);
      }
    },
    log: (level, message) => events.onLog?.(level, message),
  });

  const snapshotted = new Set<PhaseName>();
  const recordJournal = (entry: JournalEntry<SeedOutcome>) => {
    store.metrics.sync();
    journal.entries.push(entry);
    writeJournal(store.runDir, journal);
  };

  try {
    for (const seed of seedsWithWork) {
      const data = seed === firstSeed ? firstData : await loadData(seed);
      const ctx: StageContext = {
        experiment,
        data,
        seed,
        factory: o.factory ?? defaultFactory,
        report: reporter(seed),
        signal: o.signal,
        readEvery: o.readEvery ?? READ_LOSS_EVERY,
      };
      const prefix = `seed${seed}-`;
      const outcome = outcomes.get(seed) ?? emptyOutcome(seed);
      outcomes.set(seed, outcome);
      const shas = new Map<string, string>();
      await runSeed(ctx, plan.work.get(seed)!, {
        checkpoint: async (name, net: BlockNet, meta) => {
          const index = await store.checkpoint(prefix + name, net.namedVariables(), { seed, ...meta });
          shas.set(name, index.sha256);
        },
        restore: (name, net) => restoreCheckpoint(store.checkpointDir, prefix + name, net.namedVariables()).meta,
        phaseStarted: (phase) => {
          recordJournal({ kind: 'start', seed, phase, metricsSeq: store.metrics.count, at: new Date().toISOString() });
          if (!snapshotted.has(phase) && (plan.fresh.has(phase) || !readStageSnapshot(store.runDir, phase))) {
            writeStageSnapshot(store.runDir, { stage: phase, startedAt: new Date().toISOString(), experimentPath: path.resolve(o.experimentPath), experiment });
          }
          snapshotted.add(phase);
        },
        commit: async (phase, name, block) => {
          recordJournal({
            kind: 'commit',
            seed,
            phase,
            block,
            checkpoint: prefix + name,
            sha256: shas.get(name)!,
            metricsSeq: store.metrics.count,
            ...store.metrics.digest(),
            outcome: structuredClone(outcome),
            at: new Date().toISOString(),
          });
        },
        finished: async (net, testAccuracy) => {
          if (seed !== seeds[0]) return;
          const model = net.toLayersModel();
          try {
            await saveLayersModel(model, store.modelDir);
          } finally {
            model.dispose();
          }
          exported = { path: store.modelDir, seed, testAccuracy };
        },
        stageState: (phase, state, extra) => {
          current = { seed, phase, block: extra?.block };
          updateStage(summary.stages, phase, state, extra);
          flushMetrics();
          publish();
          sendProgress(`seed ${seed}: ${phase} ${state}`);
        },
      }, outcome);
      publish();
    }
    summary.state = 'done';
    delete summary.error;
  } catch (caught) {
    // A raw file-system error (a full disk, a folder without permission) is told with its path and a fix.
    const err = explainWriteError(caught);
    summary.state = err instanceof StoppedError || o.signal?.aborted ? 'stopped' : 'failed';
    summary.error = err instanceof Error ? err.message : String(err);
    for (const stage of summary.stages) if (stage.state === 'running') stage.state = summary.state;
    if (err instanceof DivergedError) markDiverged(summary.stages, err);
    events.onLog?.(summary.state === 'stopped' ? 'info' : 'error', summary.error);
  } finally {
    flushMetrics();
    try {
      publish();
    } catch (err) {
      // The disk may still be full: summary.json keeps its last whole version; listeners still learn the end.
      events.onLog?.('error', `the run's summary could not be updated: ${(explainWriteError(err) as Error).message}`);
      events.onRunState?.(structuredClone(summary));
    }
    store.close();
  }
  return { summary, outcomes: seeds.map((seed) => outcomes.get(seed)!).filter(Boolean), resumedFrom };
}

/** The previous run's stages, with the ones to run now queued (and added if new). */
function mergeStages(previous: StageStatus[], toRun: PhaseName[]): StageStatus[] {
  const stages = structuredClone(previous);
  for (const phase of PHASE_NAMES) {
    if (!toRun.includes(phase)) continue;
    const at = stages.findIndex((s) => s.stage === phase);
    if (at >= 0) stages[at] = { stage: phase, state: 'queued', ...(phase === 'imitate' && stages[at].blocks ? { blocks: stages[at].blocks } : {}) };
    else stages.push({ stage: phase, state: 'queued' });
  }
  return stages.sort((a, b) => PHASE_NAMES.indexOf(a.stage) - PHASE_NAMES.indexOf(b.stage));
}

/** JSON has no NaN: non-finite numbers are left out of the record (loss becomes 0 only if absent). */
function sanitize(record: NewMetric): NewMetric {
  const out = { ...record } as Record<string, unknown>;
  for (const [key, value] of Object.entries(out)) if (typeof value === 'number' && !Number.isFinite(value)) delete out[key];
  if (out.loss === undefined) out.loss = 0;
  return out as unknown as NewMetric;
}

type BlockStatus = NonNullable<StageStatus['blocks']>[number];

function updateStage(
  stages: StageStatus[],
  phase: PhaseName,
  state: RunState,
  extra?: { accuracy?: number; block?: number; firstBlock?: number; blockLoss?: [number, number] },
): void {
  let stage = stages.find((s) => s.stage === phase);
  if (!stage) {
    stage = { stage: phase, state };
    stages.push(stage);
  }
  stage.state = state;
  if (extra?.accuracy !== undefined) stage.accuracy = extra.accuracy;
  if (extra?.block !== undefined) {
    stage.blocks ??= [];
    // A block is listed as running when its phase starts and replaced by its result when done.
    const from = extra.firstBlock !== undefined && extra.firstBlock < extra.block ? { from: extra.firstBlock } : {};
    const entry: BlockStatus = extra.blockLoss
      ? { index: extra.block, ...from, state: 'done', startLoss: extra.blockLoss[0], loss: extra.blockLoss[1] }
      : { index: extra.block, ...from, state: 'running' };
    const at = stage.blocks.findIndex((b) => b.index === extra.block);
    if (at >= 0) stage.blocks[at] = entry;
    else stage.blocks.push(entry);
    if (extra.blockLoss) stage.lastLoss = extra.blockLoss[1];
  }
}

function markDiverged(stages: StageStatus[], err: DivergedError): void {
  const stage = stages.find((s) => s.stage === err.place.phase);
  if (!stage) return;
  stage.state = 'failed';
  if (err.place.block !== undefined) {
    stage.blocks ??= [];
    stage.blocks.push({ index: err.place.block, state: 'diverging' });
  }
}
