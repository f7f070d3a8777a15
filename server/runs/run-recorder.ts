// A run's recording, behind one object. What the orchestrator (method/run-experiment.ts) and each
// seed's pipeline (method/seed-pipeline.ts) report lands in the run folder (run-store.ts: metrics.jsonl,
// checkpoints/, summary.json, model/; run-journal.ts: progress.json; stage-settings.ts: stages/) and
// goes to the listeners (TrainingEvents: metrics in batches, progress with an ETA, the run's state,
// log lines).
import * as path from 'node:path';
import type { Experiment } from '../experiment/types';
import type { StageReporter } from '../method/context';
import { checkpointNames, emptyOutcome, type SeedOutcome, type SeedRecorder, type StageStateExtra } from '../method/seed-pipeline';
import { saveLayersModel } from '../models';
import type { BlockNet } from '../models/types';
import { PHASE_NAMES, type BackendName, type MetricRecord, type PhaseName, type ResumedFrom, type RunDiagnostics, type RunState, type RunSummary, type StageStatus } from '../protocol';
import type { TrainingEvents } from '../training/service';
import { restoreCheckpoint } from './checkpoint';
import type { NewMetric } from './metrics-log';
import { ProgressTracker, Throttle } from './progress';
import { writeJournal, type JournalEntry, type RunJournal } from './run-journal';
import { RunStore } from './run-store';
import { readStageSnapshot, writeStageSnapshot } from './stage-settings';
import { pairedComparisons } from './paired';
import { summarizeArms, summarizeDiagnostics } from './summary';
import { explainWriteError } from './write-errors';

const STREAM_INTERVAL_MS = 200;

export interface RecordingPlan {
  runsDir: string;
  experimentPath: string;
  experiment: Experiment;
  /** The journal the run goes on from (a new run: its plan and no entries). */
  journal: RunJournal<SeedOutcome>;
  /** Each seed's outcome so far; the seeds' pipelines fill them in place. */
  outcomes: Map<number, SeedOutcome>;
  /** Phases that start from their beginning now: they record the settings they start with. */
  fresh: ReadonlySet<PhaseName>;
  /** Phases that run now, over all seeds (queued in the summary). */
  toRun: PhaseName[];
  /** Steps all seeds' phases take (for progress and the ETA), and where the run begins. */
  totalSteps: number;
  first: { seed: number; phase: PhaseName };
  backend?: BackendName;
  events: Partial<TrainingEvents>;
  /** A new run's folder name (default <experiment>-<timestamp>). */
  runId?: string;
  /** The checkpoint folder the wide nets are restored from when another run trained them. */
  teacherCheckpoints?: string;
  /** A continued run: the folder to open and what to keep of it. */
  continued?: {
    runId: string;
    /** progress.json as read when the continuation was planned (see RunStore.open). */
    plannedFrom: string;
    previous?: RunSummary;
    /** Metric records to keep: seq 0..keepMetrics-1. */
    keepMetrics: number;
    resumedFrom: Omit<ResumedFrom, 'droppedMetrics'>;
    notes: string[];
  };
}

export class RunRecorder {
  readonly summary: RunSummary;
  readonly resumedFrom?: ResumedFrom;
  private exported: RunDiagnostics['model'];
  private pending: MetricRecord[] = [];
  private readonly metricThrottle = new Throttle(STREAM_INTERVAL_MS);
  private readonly progressThrottle = new Throttle(STREAM_INTERVAL_MS);
  private readonly tracker: ProgressTracker;
  private current: { seed: number; phase: PhaseName; block?: number };
  private readonly snapshotted = new Set<PhaseName>();

  /** Creates the run folder (or opens the continued one, dropping the metric records after its
   *  commit point) and writes the journal. Throws with the folder closed when that fails. */
  static start(plan: RecordingPlan): RunRecorder {
    const c = plan.continued;
    const store = c ? RunStore.open(plan.runsDir, c.runId, c.plannedFrom) : RunStore.create(plan.runsDir, plan.experiment, plan.experimentPath, undefined, plan.runId);
    let resumedFrom: ResumedFrom | undefined;
    try {
      if (c) {
        const droppedMetrics = store.truncateMetrics(c.keepMetrics);
        resumedFrom = { ...c.resumedFrom, droppedMetrics };
        for (const message of [...resumedFrom.messages, ...c.notes]) plan.events.onLog?.('warn', message);
        const from = c.resumedFrom;
        const where = from.stage === null ? 'the start (no usable checkpoint)' : `seed ${from.seed}, ${from.stage}${from.block === null ? '' : ` block ${from.block}`}`;
        plan.events.onLog?.('info', `continuing run ${store.runId} from ${where}; ${droppedMetrics} metric records after it dropped`);
      }
      writeJournal(store.runDir, plan.journal);
    } catch (err) {
      store.close();
      throw err;
    }
    return new RunRecorder(store, plan, resumedFrom);
  }

  private constructor(
    private readonly store: RunStore,
    private readonly plan: RecordingPlan,
    resumedFrom: ResumedFrom | undefined,
  ) {
    this.resumedFrom = resumedFrom;
    const previous = plan.continued?.previous;
    this.summary = {
      runId: store.runId,
      runDir: store.runDir,
      experiment: plan.experiment.name,
      experimentPath: path.resolve(plan.experimentPath),
      state: 'running',
      startedAt: previous?.startedAt ?? new Date().toISOString(),
      backend: plan.backend ?? previous?.backend,
      stages: queueStages(previous?.stages ?? [], plan.toRun),
      arms: {},
    };
    this.exported = previous?.diagnostics?.model;
    this.tracker = new ProgressTracker(Math.max(1, plan.totalSteps));
    this.current = plan.first;
    this.publish();
  }

  get runId(): string {
    return this.store.runId;
  }

  private get events(): Partial<TrainingEvents> {
    return this.plan.events;
  }

  /** The recorder of one seed's pipeline (and the reporter of its stages). */
  seed(seed: number): SeedRecording {
    const outcome = this.plan.outcomes.get(seed) ?? emptyOutcome(seed);
    this.plan.outcomes.set(seed, outcome);
    return new SeedRecording(this, seed, outcome);
  }

  /** Writes summary.json from the outcomes so far and tells the listeners. */
  publish(): void {
    const list = [...this.plan.outcomes.values()];
    this.summary.arms = summarizeArms(list);
    this.summary.paired = pairedComparisons(list);
    this.summary.diagnostics = summarizeDiagnostics(list, this.exported ? { model: this.exported } : {});
    this.store.writeSummary(this.summary);
    this.events.onRunState?.(structuredClone(this.summary));
  }

  /** Ends the run: "done" without `failure`; else "stopped" or "failed", with the stage a diverged
   *  loss came from marked. Flushes the metrics, publishes and closes the folder. */
  end(failure?: { state: 'stopped' | 'failed'; error: string; diverged?: { phase: PhaseName; block?: number } }): void {
    const summary = this.summary;
    if (failure) {
      summary.state = failure.state;
      summary.error = failure.error;
      for (const stage of summary.stages) if (stage.state === 'running') stage.state = failure.state;
      if (failure.diverged) markDiverged(summary.stages, failure.diverged);
      this.events.onLog?.(failure.state === 'stopped' ? 'info' : 'error', failure.error);
    } else {
      summary.state = 'done';
      delete summary.error;
    }
    this.flushMetrics();
    try {
      this.publish();
    } catch (err) {
      // The disk may still be full: summary.json keeps its last whole version; listeners still learn the end.
      this.events.onLog?.('error', `the run's summary could not be updated: ${(explainWriteError(err) as Error).message}`);
      this.events.onRunState?.(structuredClone(summary));
    }
    this.store.close();
  }

  // What SeedRecording forwards, with its seed.

  metric(record: NewMetric): void {
    this.pending.push(...this.store.appendMetrics([sanitize(record)]));
    if (this.metricThrottle.due()) this.flushMetrics();
  }

  steps(seed: number, phase: PhaseName, block: number | undefined, done: number, total: number): void {
    this.tracker.update(seed, phase, block, done);
    this.current = { seed, phase, block };
    if (this.progressThrottle.due() || done === total) {
      const where = block === undefined ? phase : `${phase} block ${block + 1}`;
      this.sendProgress(`seed ${seed}: ${where}, step ${done}/${total}`);
    }
  }

  log(level: 'info' | 'warn' | 'error', message: string): void {
    this.events.onLog?.(level, message);
  }

  async checkpoint(name: string, net: BlockNet, meta: Record<string, unknown>): Promise<string> {
    return (await this.store.checkpoint(name, net.namedVariables(), meta)).sha256;
  }

  restore(name: string, net: BlockNet, teacher = false): Record<string, unknown> {
    const folder = teacher && this.plan.teacherCheckpoints ? this.plan.teacherCheckpoints : this.store.checkpointDir;
    return restoreCheckpoint(folder, name, net.namedVariables()).meta;
  }

  /** A journal entry for a phase started afresh; the first start of a phase in this invocation also
   *  records the settings it runs with (stages/<phase>.json), unless it goes on with the ones it had. */
  phaseStarted(seed: number, phase: PhaseName): void {
    this.journal({ kind: 'start', seed, phase, metricsSeq: this.store.metrics.count, at: new Date().toISOString() });
    if (!this.snapshotted.has(phase) && (this.plan.fresh.has(phase) || !readStageSnapshot(this.store.runDir, phase))) {
      writeStageSnapshot(this.store.runDir, { stage: phase, startedAt: new Date().toISOString(), experimentPath: path.resolve(this.plan.experimentPath), experiment: this.plan.experiment });
    }
    this.snapshotted.add(phase);
  }

  /** A commit point: the checkpoint (with its sha256), the metric records before it, the seed's outcome. */
  commit(seed: number, phase: PhaseName, checkpoint: string, sha256: string, block: number | undefined, outcome: SeedOutcome): void {
    this.journal({
      kind: 'commit',
      seed,
      phase,
      block,
      checkpoint,
      sha256,
      metricsSeq: this.store.metrics.count,
      ...this.store.metrics.digest(),
      outcome: structuredClone(outcome),
      at: new Date().toISOString(),
    });
  }

  /** Exports the first seed's finished three-stage thin net to model/. */
  async finished(seed: number, net: BlockNet, testAccuracy: number): Promise<void> {
    if (seed !== this.plan.journal.plan.seeds[0]) return;
    const model = net.toLayersModel();
    try {
      await saveLayersModel(model, this.store.modelDir);
    } finally {
      model.dispose();
    }
    this.exported = { path: this.store.modelDir, seed, testAccuracy };
  }

  stageState(seed: number, phase: PhaseName, state: RunState, extra?: StageStateExtra): void {
    this.current = { seed, phase, block: extra?.block };
    updateStage(this.summary.stages, phase, state, extra);
    this.flushMetrics();
    this.publish();
    this.sendProgress(`seed ${seed}: ${phase} ${state}`);
  }

  private journal(entry: JournalEntry<SeedOutcome>): void {
    this.store.metrics.sync();
    this.plan.journal.entries.push(entry);
    writeJournal(this.store.runDir, this.plan.journal);
  }

  /** Metrics go to the file at once and to listeners in batches. */
  private flushMetrics(): void {
    if (this.pending.length > 0) this.events.onMetrics?.(this.store.runId, this.pending);
    this.pending = [];
  }

  private sendProgress(message: string): void {
    this.events.onProgress?.({
      runId: this.store.runId,
      phase: this.current.phase,
      seed: this.current.seed,
      block: this.current.block,
      fraction: this.tracker.fraction,
      etaSeconds: this.tracker.etaSeconds,
      message,
    });
  }
}

/** One seed's view of the recorder: checkpoint names get the seed's prefix, commit points the
 *  checkpoint's sha256 and the seed's outcome. */
export class SeedRecording implements SeedRecorder, StageReporter {
  private readonly prefix: string;
  private readonly shas = new Map<string, string>();

  constructor(
    private readonly run: RunRecorder,
    readonly seed: number,
    /** The seed's outcome, filled in place by its pipeline. */
    readonly outcome: SeedOutcome,
  ) {
    this.prefix = `seed${seed}-`;
  }

  metric(record: NewMetric): void {
    this.run.metric(record);
  }

  steps(phase: PhaseName, block: number | undefined, done: number, total: number): void {
    this.run.steps(this.seed, phase, block, done, total);
  }

  log(level: 'info' | 'warn' | 'error', message: string): void {
    this.run.log(level, message);
  }

  async checkpoint(name: string, net: BlockNet, meta: Record<string, unknown>): Promise<void> {
    this.shas.set(name, await this.run.checkpoint(this.prefix + name, net, { seed: this.seed, ...meta }));
  }

  restore(name: string, net: BlockNet): Record<string, unknown> {
    return this.run.restore(this.prefix + name, net, name === checkpointNames.wide);
  }

  phaseStarted(phase: PhaseName): void {
    this.run.phaseStarted(this.seed, phase);
  }

  async commit(phase: PhaseName, checkpoint: string, block?: number): Promise<void> {
    this.run.commit(this.seed, phase, this.prefix + checkpoint, this.shas.get(checkpoint)!, block, this.outcome);
  }

  finished(net: BlockNet, testAccuracy: number): Promise<void> {
    return this.run.finished(this.seed, net, testAccuracy);
  }

  stageState(phase: PhaseName, state: RunState, extra?: StageStateExtra): void {
    this.run.stageState(this.seed, phase, state, extra);
  }
}

/** The previous run's stages, with the ones to run now queued (and added if new). */
function queueStages(previous: StageStatus[], toRun: PhaseName[]): StageStatus[] {
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

function updateStage(stages: StageStatus[], phase: PhaseName, state: RunState, extra?: StageStateExtra): void {
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

function markDiverged(stages: StageStatus[], place: { phase: PhaseName; block?: number }): void {
  const stage = stages.find((s) => s.stage === place.phase);
  if (!stage) return;
  stage.state = 'failed';
  if (place.block !== undefined) {
    stage.blocks ??= [];
    stage.blocks.push({ index: place.block, state: 'diverging' });
  }
}
