// The orchestrator: seeds x (wide, win, baselines) into one run folder, with progress, streamed
// metrics and RunSummary updates. Setup errors (bad data) throw before the run folder exists;
// errors during training end the run with state "failed" (or "stopped") and an intact folder.
import * as path from 'node:path';
import type { Dataset } from '../data/types';
import { loadDataset } from '../data/load';
import type { Experiment } from '../experiment/types';
import { buildNet, buildProjection, saveLayersModel } from '../models';
import type { BlockNet } from '../models/types';
import type { BackendName, MetricRecord, PhaseName, RunState, RunSummary, StageName, StageStatus } from '../protocol';
import { restoreCheckpoint } from '../runs/checkpoint';
import type { NewMetric } from '../runs/metrics-log';
import { RunStore } from '../runs/run-store';
import type { TrainingEvents } from '../training/service';
import type { NetFactory, StageContext, StageReporter } from './context';
import { DivergedError, StoppedError } from './errors';
import { ProgressTracker, Throttle } from './progress';
import { phasesOf, plannedSteps, runSeed, type SeedOutcome } from './seed-pipeline';
import { summarizeArms, summarizeDiagnostics } from './summary';

export interface RunOptions {
  runsDir: string;
  /** The experiment file (recorded in the summary; data paths resolve against its folder). */
  experimentPath: string;
  signal?: AbortSignal;
  events?: Partial<TrainingEvents>;
  stages?: StageName;
  /** Continue this existing run (later stages restore earlier ones from its checkpoints). */
  runId?: string;
  backend?: BackendName;
  /** Override the seeds of the experiment. */
  seeds?: number[];
  factory?: NetFactory;
  /** Data per seed; defaults to loadDataset with the experiment's data settings. */
  loadData?: (seed: number) => Promise<Dataset>;
  /** Read the loss back every this many steps (default 10). */
  readEvery?: number;
  /** Called once the run folder exists (the service maps run ids to stop handles). */
  onStarted?: (summary: RunSummary) => void;
}

export interface RunResult {
  summary: RunSummary;
  outcomes: SeedOutcome[];
}

const STREAM_INTERVAL_MS = 200;
const defaultFactory: NetFactory = { buildNet, buildProjection };

export async function runExperiment(experiment: Experiment, o: RunOptions): Promise<RunResult> {
  const seeds = o.seeds ?? experiment.seeds;
  const phases = phasesOf(o.stages ?? 'all', experiment.baselines);
  const loadData = o.loadData ?? ((seed: number) => loadDataset(experiment.data, path.dirname(path.resolve(o.experimentPath)), seed));
  // Load (and so check) the first seed's data before any folder is created.
  let data = await loadData(seeds[0]);

  const store = o.runId ? RunStore.open(o.runsDir, o.runId) : RunStore.create(o.runsDir, experiment, o.experimentPath);
  const events = o.events ?? {};
  const summary: RunSummary = {
    runId: store.runId,
    runDir: store.runDir,
    experiment: experiment.name,
    experimentPath: path.resolve(o.experimentPath),
    state: 'running',
    startedAt: new Date().toISOString(),
    backend: o.backend,
    stages: phases.map((stage): StageStatus => ({ stage, state: 'queued' })),
    arms: {},
  };
  const outcomes: SeedOutcome[] = [];
  let exported: { path: string; seed: number; testAccuracy: number } | undefined;
  const publish = () => {
    summary.arms = summarizeArms(outcomes);
    summary.diagnostics = summarizeDiagnostics(outcomes, exported ? { model: exported } : {});
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
  const firstContext = { experiment, data, seed: seeds[0] } as StageContext;
  const perSeed = plannedSteps(firstContext, phases);
  const tracker = new ProgressTracker(seeds.length * Object.values(perSeed).reduce((a, b) => a + b, 0));
  const progressThrottle = new Throttle(STREAM_INTERVAL_MS);
  let current: { seed: number; phase: PhaseName; block?: number } = { seed: seeds[0], phase: phases[0] };
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

  try {
    for (let index = 0; index < seeds.length; index++) {
      const seed = seeds[index];
      if (index > 0) data = await loadData(seed);
      const ctx: StageContext = {
        experiment,
        data,
        seed,
        factory: o.factory ?? defaultFactory,
        report: reporter(seed),
        signal: o.signal,
        readEvery: o.readEvery ?? 10,
      };
      const prefix = `seed${seed}-`;
      const outcome = await runSeed(ctx, phases, {
        checkpoint: async (name, net: BlockNet, meta) => {
          await store.checkpoint(prefix + name, net.namedVariables(), { seed, ...meta });
        },
        restore: (name, net) => {
          restoreCheckpoint(store.checkpointDir, prefix + name, net.namedVariables());
        },
        finished: async (net, testAccuracy) => {
          if (index !== 0) return;
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
      });
      outcomes.push(outcome);
      publish();
    }
    summary.state = 'done';
  } catch (err) {
    summary.state = err instanceof StoppedError || o.signal?.aborted ? 'stopped' : 'failed';
    summary.error = err instanceof Error ? err.message : String(err);
    for (const stage of summary.stages) if (stage.state === 'running') stage.state = summary.state;
    if (err instanceof DivergedError) markDiverged(summary.stages, err);
    events.onLog?.(summary.state === 'stopped' ? 'info' : 'error', summary.error);
  } finally {
    flushMetrics();
    store.close();
  }
  publish();
  return { summary, outcomes };
}

/** JSON has no NaN: non-finite numbers are left out of the record (loss becomes 0 only if absent). */
function sanitize(record: NewMetric): NewMetric {
  const out = { ...record } as Record<string, unknown>;
  for (const [key, value] of Object.entries(out)) if (typeof value === 'number' && !Number.isFinite(value)) delete out[key];
  if (out.loss === undefined) out.loss = 0;
  return out as unknown as NewMetric;
}

function updateStage(
  stages: StageStatus[],
  phase: PhaseName,
  state: RunState,
  extra?: { accuracy?: number; block?: number; blockLoss?: [number, number] },
): void {
  let stage = stages.find((s) => s.stage === phase);
  if (!stage) {
    stage = { stage: phase, state };
    stages.push(stage);
  }
  stage.state = state;
  if (extra?.accuracy !== undefined) stage.accuracy = extra.accuracy;
  if (extra?.block !== undefined && extra.blockLoss) {
    stage.blocks ??= [];
    const entry = { index: extra.block, state: 'done' as const, startLoss: extra.blockLoss[0], loss: extra.blockLoss[1] };
    const at = stage.blocks.findIndex((b) => b.index === extra.block);
    if (at >= 0) stage.blocks[at] = entry;
    else stage.blocks.push(entry);
    stage.lastLoss = extra.blockLoss[1];
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
