// The TrainingService the sidecar and the CLI use: experiments through the experiment module, runs
// through the method's orchestrator, run folders through the run store.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createExperimentFile, loadExperimentFile, validateExperimentText } from '../experiment';
import { initEngine, getEngineInfo } from '../engine/engine';
import { runExperiment } from '../method/run-experiment';
import type { ExportModelParams, RunRefParams, RunSummary, StartStageParams, StartStageResult } from '../protocol';
import { getMetrics, latestUnfinishedRun, listRuns } from '../runs/list';
import { defaultRunsDir, runPath } from '../runs/names';
import type { TrainingEvents, TrainingService } from './service';

export function createTrainingService(events: TrainingEvents): TrainingService {
  /** Runs in progress, by run id, with the handle that stops them. */
  const active = new Map<string, AbortController>();
  /** Where runs started by this service live, so getMetrics works without runsDir. */
  const runsDirOf = new Map<string, string>();

  async function startStage(p: StartStageParams, signal?: AbortSignal): Promise<StartStageResult> {
    const { experiment } = loadExperimentFile(p.experimentPath);
    const backend = p.backend ?? experiment.backend;
    const engine = getEngineInfo();
    if (!engine || (backend && engine.active !== backend)) await initEngine({ backend, log: (m) => events.onLog('info', m) });
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
