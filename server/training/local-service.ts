// The TrainingService the sidecar and the CLI use: experiments through the experiment module, runs
// through the method's orchestrator, run folders through the run store.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createExperimentFile, loadExperimentFile, validateExperimentText } from '../experiment';
import { initEngine, getEngineInfo } from '../engine/engine';
import { runExperiment } from '../method/run-experiment';
import type { Experiment } from '../experiment/types';
import { thinAndWideSizes } from '../models/net-sizes';
import type { ExportModelParams, RunRefParams, RunSummary, StartStageParams, StartStageResult, StartSweepParams, StartSweepResult, SweepPointResult, SweepResultsParams } from '../protocol';
import { getMetrics, latestUnfinishedRun, listRuns, readSummary } from '../runs/list';
import { defaultRunsDir, runPath } from '../runs/names';
import { latestSweep, latestUnfinishedSweep, SweepStore } from '../runs/sweep-store';
import type { TrainingEvents, TrainingService } from './service';

/** A sweep point with its run's summary and its nets' sizes (each arm's cost). */
async function finishedPoint(point: SweepPointResult, experiment: Experiment, experimentPath: string): Promise<SweepPointResult> {
  return { ...point, summary: readSummary(point.runDir!), sizes: await thinAndWideSizes(experiment, experimentPath) };
}

/** The experiment a run folder recorded (experiment.json), or undefined while it is being made. */
function readRunExperiment(runDir: string): Experiment | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(runDir, 'experiment.json'), 'utf8')) as { experiment: Experiment }).experiment;
  } catch {
    return undefined;
  }
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
    return startRun(experiment, p, signal);
  }

  /** One run of `experiment` (the file's, or a sweep point's); onStarted once its folder exists. */
  async function startRun(experiment: Experiment, p: StartStageParams, signal?: AbortSignal, onStarted?: (runId: string) => void): Promise<StartStageResult> {
    await ensureEngine(p.backend ?? experiment.backend);
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const runsDir = p.runsDir ?? defaultRunsDir(p.experimentPath);
    // resume: the run named, or the latest unfinished run of the experiment, from its last checkpoint.
    let runId = p.runId;
    if (p.resume && !runId) {
      runId = latestUnfinishedRun(runsDir, p.experimentPath)?.runId;
      if (!runId) throw new Error(`nothing to resume: no unfinished run of ${p.experimentPath} in ${runsDir}`);
    }
    if (runId && active.has(runId)) throw new Error(`run ${runId} is in progress; stop it first`);
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
    const runPoints = async (): Promise<SweepPointResult[]> => {
      const results: SweepPointResult[] = [];
      let stopped = false;
      for (const [i, point] of sweep.points.entries()) {
        if (stopped || signal?.aborted) {
          results.push(pointOf(i));
          continue;
        }
        if (!store.isDone(i)) {
          const runId = store.points[i].runId;
          const stageParams: StartStageParams = { ...p, stage: p.stage ?? 'all', runId, resume: runId !== undefined, runsDir, wait: true };
          const result = await startRun(point.experiment, stageParams, signal, (id) => store.setRun(i, id));
          stopped = result.summary?.state === 'stopped';
        }
        results.push(await finishedPoint(pointOf(i), point.experiment, p.experimentPath));
      }
      return results;
    };
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
      if (!controller) return { stopped: false };
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
