// The TrainingService the sidecar and the CLI use: experiments through the experiment module, runs
// through the method's orchestrator, run folders through the run store.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createExperimentFile, loadExperimentFile, validateExperimentText } from '../experiment';
import { initEngine, getEngineInfo } from '../engine/engine';
import { cancelLaunchedRun, followJobs } from '../launch/follow-jobs';
import { cliScript, driverFor } from '../launch/driver-for';
import { isLaunchedRun, readJobsFile } from '../launch/jobs-file';
import { runExperiment } from '../method/run-experiment';
import { phasesOf } from '../method/seed-pipeline';
import type { Experiment } from '../experiment/types';
import { thinAndWideSizes } from '../models/net-sizes';
import type { ExportModelParams, RunRefParams, RunSummary, StartStageParams, StartStageResult, StartSweepParams, StartSweepResult, SweepPointResult, SweepResultsParams, ThinAndWideSizes } from '../protocol';
import { getMetrics, latestUnfinishedRun, listRuns, readSummary } from '../runs/list';
import { defaultRunsDir, runPath } from '../runs/names';
import { readRunExperiment } from '../runs/stage-settings';
import { latestSweep, latestUnfinishedSweep, SweepStore } from '../runs/sweep-store';
import type { TrainingEvents, TrainingService } from './service';

/** A sweep point with its run's summary and its nets' sizes (each arm's cost). */
async function finishedPoint(point: SweepPointResult, experiment: Experiment, experimentPath: string): Promise<SweepPointResult> {
  return { ...point, summary: readSummary(point.runDir!), sizes: await thinAndWideSizes(experiment, experimentPath) };
}


export function createTrainingService(events: TrainingEvents): TrainingService {
  /** Runs in progress, by run id, with the handle that stops them. */
  const active = new Map<string, AbortController>();
  /** Where runs started by this service live, so getMetrics works without runsDir. */
  const runsDirOf = new Map<string, string>();

  async function ensureEngine(backend: Experiment['backend']): Promise<void> {
    const engine = getEngineInfo();
    if (!engine || (backend && engine.active !== backend)) await initEngine({ backend, log: (m) => events.onLog('info', m) });
  }

  async function startStage(p: StartStageParams, signal?: AbortSignal): Promise<StartStageResult> {
    const { experiment, sweep } = loadExperimentFile(p.experimentPath);
    if (sweep) throw new Error(`${p.experimentPath} names a sweep (${Object.keys(sweep.grid).join(', ')}): start it as a sweep (gowide run FILE, or the widening view's Run Sweep), or remove "sweep" to run the file's own values`);
    const result = await startRun(experiment, p, signal);
    if (!result.summary) return result;
    const sizes = await runSizes(result.runDir, experiment, p);
    return sizes ? { ...result, sizes } : result;
  }

  /** The sizes of the nets a finished run trained (its recorded configuration). A launched run's own
   *  process trained nothing, so this may start its engine; a net that cannot be built is only logged:
   *  the run's result stands without its cost. */
  async function runSizes(runDir: string, experiment: Experiment, p: StartStageParams): Promise<ThinAndWideSizes | undefined> {
    try {
      await ensureEngine(p.backend ?? experiment.backend);
      return await thinAndWideSizes(readRunExperiment(runDir) ?? experiment, p.experimentPath);
    } catch (err) {
      events.onLog('warn', `could not size the run's nets (its arms' FLOPs are left out): ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  /** One run of `experiment` (the file's, or a sweep point's); onStarted once its folder exists. */
  async function startRun(experiment: Experiment, p: StartStageParams, signal?: AbortSignal, onStarted?: (runId: string) => void): Promise<StartStageResult> {
    const runsDir = p.runsDir ?? defaultRunsDir(p.experimentPath);
    // resume: the run named, or the latest unfinished run of the experiment, from its last checkpoint.
    let runId = p.runId;
    if (p.resume && !runId) {
      runId = latestUnfinishedRun(runsDir, p.experimentPath)?.runId;
      if (!runId) throw new Error(`nothing to resume: no unfinished run of ${p.experimentPath} in ${runsDir}`);
    }
    if (runId && active.has(runId)) throw new Error(`run ${runId} is in progress; stop it first`);
    const launched = runId !== undefined && isLaunchedRun(runPath(runsDir, runId));
    if (p.launch || launched) return startLaunchedRun(experiment, { ...p, runsDir, runId }, launched, signal, onStarted);
    await ensureEngine(p.backend ?? experiment.backend);
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let started: (summary: RunSummary) => void = () => undefined;
    const startedPromise = new Promise<RunSummary>((resolve) => (started = resolve));
    const finished = runExperiment(experiment, {
      runsDir,
      experimentPath: p.experimentPath,
      signal: controller.signal,
      events,
      stages: p.stage,
      runId,
      resume: p.resume === true && runId !== undefined,
      backend: getEngineInfo()?.active,
      seeds: p.seeds,
      onStarted: (summary) => {
        active.set(summary.runId, controller);
        runsDirOf.set(summary.runId, runsDir);
        onStarted?.(summary.runId);
        started(summary);
      },
    }).finally(() => signal?.removeEventListener('abort', onAbort));
    const cleanUp = (summary: RunSummary) => active.delete(summary.runId);
    if (p.wait) {
      const { summary, resumedFrom } = await finished;
      cleanUp(summary);
      return { runId: summary.runId, runDir: summary.runDir, backend: getEngineInfo()?.active, summary, ...(resumedFrom ? { resumedFrom } : {}) };
    }
    // Without wait: answer once the run folder exists (or with the setup error).
    const first = await Promise.race([startedPromise, finished.then((r) => r.summary)]);
    finished.then(
      (r) => cleanUp(r.summary),
      (err: unknown) => events.onLog('error', err instanceof Error ? err.message : String(err)),
    );
    return { runId: first.runId, runDir: first.runDir };
  }

  /**
   * A run as a graph of jobs through a launcher (follow-jobs.ts): a new one, or the launched run
   * `p.runId` resumed (its completed jobs kept, with its recorded launch options unless p.launch
   * gives others). This process trains nothing itself, so it starts no engine.
   */
  async function startLaunchedRun(
    experiment: Experiment,
    p: StartStageParams & { runsDir: string },
    resuming: boolean,
    signal?: AbortSignal,
    onStarted?: (runId: string) => void,
  ): Promise<StartStageResult> {
    if (p.runId && !resuming) throw new Error(`run ${p.runId} ran in one process; continue it without a launcher (no --launcher or --jobs), or start a new run`);
    if (p.runId && !p.resume) throw new Error(`run ${p.runId} was launched as jobs: it can only be resumed as it was planned (--resume), not continued with another stage`);
    const launch = p.launch ?? readJobsFile(runPath(p.runsDir, p.runId!)).launch;
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let started: (summary: RunSummary) => void = () => undefined;
    const startedPromise = new Promise<RunSummary>((resolve) => (started = resolve));
    let startedId: string | undefined;
    const finished = followJobs({
      driver: driverFor(launch),
      launch,
      cliPath: cliScript(),
      runsDir: p.runsDir,
      experimentPath: p.experimentPath,
      experiment,
      phases: phasesOf(p.stage ?? 'all', experiment.baselines),
      seeds: p.seeds ?? experiment.seeds,
      backend: p.backend ?? experiment.backend,
      runId: p.runId,
      signal: controller.signal,
      events,
      onStarted: (summary) => {
        startedId = summary.runId;
        if (!launch.detach) active.set(summary.runId, controller);
        runsDirOf.set(summary.runId, p.runsDir);
        onStarted?.(summary.runId);
        started(summary);
      },
    }).finally(() => {
      signal?.removeEventListener('abort', onAbort);
      if (startedId) active.delete(startedId);
    });
    if (p.wait) {
      const summary = await finished;
      return { runId: summary.runId, runDir: summary.runDir, backend: summary.backend ?? p.backend ?? experiment.backend, summary };
    }
    const first = await Promise.race([startedPromise, finished]);
    finished.catch((err: unknown) => events.onLog('error', err instanceof Error ? err.message : String(err)));
    return { runId: first.runId, runDir: first.runDir };
  }

  /** Stop for a launched run this service does not follow (detached): cancel its jobs through its launcher. */
  async function stopDetached(runId: string, named?: string): Promise<boolean> {
    const runsDir = named ?? runsDirOf.get(runId);
    if (!runsDir || !isLaunchedRun(runPath(runsDir, runId))) return false;
    const runDir = runPath(runsDir, runId);
    return cancelLaunchedRun(runDir, driverFor(readJobsFile(runDir).launch));
  }

  /** Runs a sweep's points one after another: finished ones kept, unfinished runs resumed, the rest started.
   *  A point that fails does not end the sweep; a stopped one (Stop, or `signal`) does. */
  async function startSweep(p: StartSweepParams, signal?: AbortSignal): Promise<StartSweepResult> {
    const { experiment, sweep } = loadExperimentFile(p.experimentPath);
    if (!sweep) throw new Error(`${p.experimentPath} names no sweep; add e.g. "sweep": {"widen.factor": [2, 4, 8]}, or run it as one run`);
    await ensureEngine(p.backend ?? experiment.backend); // the points' sizes build nets, finished points too
    const runsDir = p.runsDir ?? defaultRunsDir(p.experimentPath);
    let store: SweepStore;
    if (p.resume) {
      const unfinished = latestUnfinishedSweep(runsDir, p.experimentPath);
      if (!unfinished) throw new Error(`nothing to resume: no unfinished sweep of ${p.experimentPath} in ${runsDir}`);
      if (JSON.stringify(unfinished.grid) !== JSON.stringify(sweep.grid)) {
        throw new Error(`the sweep in ${p.experimentPath} changed since ${unfinished.sweepId} started (${JSON.stringify(unfinished.grid)} then, ${JSON.stringify(sweep.grid)} now); restore it to resume, or run without --resume for a new sweep`);
      }
      store = unfinished;
    } else {
      store = SweepStore.create(runsDir, experiment.name, p.experimentPath, sweep.grid, sweep.points.map((point) => point.values));
    }
    const pointOf = (i: number): SweepPointResult => {
      const runId = store.points[i].runId;
      return { values: sweep.points[i].values, ...(runId ? { runId, runDir: runPath(runsDir, runId) } : {}) };
    };
    const runPoint = (i: number) => {
      const runId = store.points[i].runId;
      const stageParams: StartStageParams = { ...p, stage: p.stage ?? 'all', runId, resume: runId !== undefined, runsDir, wait: true };
      return startRun(sweep.points[i].experiment, stageParams, signal, (id) => store.setRun(i, id));
    };
    const results = (): Promise<SweepPointResult[]> => Promise.all(sweep.points.map((point, i) => (store.points[i].runId ? finishedPoint(pointOf(i), point.experiment, p.experimentPath) : pointOf(i))));
    // Slurm queues every point's jobs at once and the points' followers poll side by side.
    const runPointsTogether = async (): Promise<SweepPointResult[]> => {
      const settled = await Promise.allSettled(sweep.points.map((_, i) => (store.isDone(i) ? undefined : runPoint(i))));
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return results();
    };
    const runPointsInTurn = async (): Promise<SweepPointResult[]> => {
      let stopped = false;
      for (const i of sweep.points.keys()) {
        if (stopped || signal?.aborted) break;
        if (!store.isDone(i)) stopped = (await runPoint(i)).summary?.state === 'stopped';
      }
      return results();
    };
    const runPoints = p.launch?.launcher === 'slurm' ? runPointsTogether : runPointsInTurn;
    const answer = { sweepId: store.sweepId, sweepDir: store.dir };
    if (p.wait) {
      const points = await runPoints();
      return { ...answer, backend: getEngineInfo()?.active, points };
    }
    runPoints().catch((err: unknown) => events.onLog('error', err instanceof Error ? err.message : String(err)));
    return { ...answer, points: sweep.points.map((_, i) => pointOf(i)) };
  }

  /** The newest sweep of the file as it stands, each started point with its summary and net sizes. */
  async function sweepResults(p: SweepResultsParams): Promise<StartSweepResult | null> {
    const runsDir = p.runsDir ?? defaultRunsDir(p.experimentPath);
    const store = latestSweep(runsDir, p.experimentPath);
    if (!store) return null;
    await ensureEngine(getEngineInfo()?.active);
    const points: SweepPointResult[] = [];
    for (const { values, runId } of store.points) {
      const point: SweepPointResult = { values, ...(runId ? { runId, runDir: runPath(runsDir, runId) } : {}) };
      const snapshot = point.runDir ? readRunExperiment(point.runDir) : undefined;
      points.push(snapshot ? await finishedPoint(point, snapshot, p.experimentPath) : point);
    }
    return { sweepId: store.sweepId, sweepDir: store.dir, backend: getEngineInfo()?.active, points };
  }

  /** The folder of a run named by the explorer (deleteRun, exportModel). */
  function runDirOf(p: RunRefParams): string {
    const runsDir = p.runsDir ?? runsDirOf.get(p.runId) ?? (p.experimentPath ? defaultRunsDir(p.experimentPath) : undefined);
    if (!runsDir) throw new Error(`run ${p.runId} is unknown here: pass runsDir or experimentPath`);
    const dir = runPath(runsDir, p.runId);
    if (!fs.existsSync(path.join(dir, 'experiment.json'))) throw new Error(`run ${p.runId} not found in ${runsDir}`);
    return dir;
  }

  return {
    validateExperiment: async (p) => {
      const result = validateExperimentText(p.path, p.text);
      return { ok: result.ok, problems: result.problems };
    },
    createExperiment: async (p) => createExperimentFile(p),
    startStage,
    startSweep,
    sweepResults,
    stop: async (p) => {
      const controller = active.get(p.runId);
      if (!controller) return { stopped: await stopDetached(p.runId, p.runsDir) };
      controller.abort();
      return { stopped: true };
    },
    listRuns: async (p) => {
      if (p.runsDir) return listRuns(p.runsDir, p.experimentPath);
      if (p.experimentPath) return listRuns(defaultRunsDir(p.experimentPath), p.experimentPath);
      return [];
    },
    getMetrics: async (p) => {
      const runsDir = p.runsDir ?? runsDirOf.get(p.runId);
      if (!runsDir) throw new Error(`run ${p.runId} is unknown here: pass runsDir (the folder holding the run)`);
      return getMetrics(runsDir, p.runId, p.afterSeq ?? -1);
    },
    deleteRun: async (p) => {
      if (active.has(p.runId)) throw new Error(`run ${p.runId} is in progress; stop it first`);
      const runDir = runDirOf(p);
      fs.rmSync(runDir, { recursive: true, force: true });
      runsDirOf.delete(p.runId);
      return { deleted: true, runDir };
    },
    exportModel: async (p: ExportModelParams) => {
      const model = path.join(runDirOf(p), 'model');
      if (!fs.existsSync(path.join(model, 'model.json'))) throw new Error(`run ${p.runId} has no exported thin model yet; it is written when fine-tuning finishes`);
      const destination = path.resolve(p.destination);
      if (fs.existsSync(path.join(destination, 'model.json')) && !p.overwrite) throw new Error(`${destination} already holds a model.json; choose another folder`);
      fs.cpSync(model, destination, { recursive: true, force: true });
      return { path: destination, files: fs.readdirSync(model) };
    },
  };
}
