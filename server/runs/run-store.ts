// One readable folder per run under runsDir:
//   <experiment>-<timestamp>/experiment.json   the resolved configuration
//                            metrics.jsonl     MetricRecords, append-only
//                            checkpoints/      <name>.bin + <name>.json (sha256)
//                            summary.json      RunSummary, replaced atomically
//                            progress.json     the journal of commit points (see run-journal.ts)
//                            stages/           <phase>.json: the settings each phase started with
//                            run.lock          the pid of the process training it (see run-lock.ts)
//                            model/            the final thin net (TF.js LayersModel)
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { Experiment } from '../experiment/types';
import type { MetricRecord, RunSummary } from '../protocol';
import { writeJsonAtomic } from './atomic';
import { saveCheckpoint, type CheckpointIndex } from './checkpoint';
import { MetricsLog, truncateMetricsFile, type NewMetric } from './metrics-log';
import { runFolderName, runPath } from './names';
import { journalText } from './run-journal';
import { acquireRunLock } from './run-lock';
import { explainWriteError, explainingWriteErrors } from './write-errors';

export class RunStore {
  private log: MetricsLog;
  private readonly unlock: () => void;

  private constructor(
    readonly runId: string,
    readonly runDir: string,
    /** With open: the progress.json the caller planned from; a different one now means another
     *  process worked on the run in between, and the plan is stale. */
    plannedFrom?: string,
  ) {
    this.unlock = acquireRunLock(runDir);
    try {
      if (plannedFrom !== undefined && journalText(runDir) !== plannedFrom) {
        throw new Error(`run ${runId} was changed by another gowide process while this one prepared to continue it; look at its state, then try again`);
      }
      removeTemporaryFiles(runDir);
      this.log = new MetricsLog(this.metricsFile, runId);
    } catch (err) {
      this.unlock();
      throw err;
    }
  }

  get metrics(): MetricsLog {
    return this.log;
  }

  get metricsFile(): string {
    return path.join(this.runDir, 'metrics.jsonl');
  }

  /** Keeps metric records 0..keep-1 (see truncateMetricsFile); returns how many were dropped. */
  truncateMetrics(keep: number): number {
    this.log.close();
    try {
      return truncateMetricsFile(this.metricsFile, keep);
    } finally {
      this.log = new MetricsLog(this.metricsFile, this.runId);
    }
  }

  /** Creates a new run folder (see createRunFolder) and opens it. */
  static create(runsDir: string, experiment: Experiment, experimentPath: string, when = new Date(), runId?: string): RunStore {
    const created = createRunFolder(runsDir, experiment, experimentPath, { when, runId });
    return new RunStore(created.runId, created.runDir);
  }

  /** Opens an existing run folder (to continue it). `plannedFrom`: see the constructor. */
  static open(runsDir: string, runId: string, plannedFrom?: string): RunStore {
    const dir = runPath(runsDir, runId);
    if (!fs.existsSync(path.join(dir, 'experiment.json'))) throw new Error(`run ${runId} not found in ${runsDir}`);
    return new RunStore(runId, dir, plannedFrom);
  }

  get checkpointDir(): string {
    return path.join(this.runDir, 'checkpoints');
  }

  get modelDir(): string {
    return path.join(this.runDir, 'model');
  }

  appendMetrics(records: NewMetric[]): MetricRecord[] {
    return this.metrics.append(records);
  }

  writeSummary(summary: RunSummary): void {
    writeJsonAtomic(summaryFile(this.runDir), summary);
  }

  async checkpoint(name: string, variables: Map<string, tf.Variable>, meta: Record<string, unknown>): Promise<CheckpointIndex> {
    this.metrics.sync();
    return saveCheckpoint(this.checkpointDir, name, variables, meta);
  }

  close(): void {
    try {
      this.log.close();
    } finally {
      this.unlock();
    }
  }
}

const summaryFile = (runDir: string) => path.join(runDir, 'summary.json');

/** The summary.json a run folder's own process wrote; undefined when there is none or it is unreadable. */
export function readSummaryFile(runDir: string): RunSummary | undefined {
  try {
    return JSON.parse(fs.readFileSync(summaryFile(runDir), 'utf8')) as RunSummary;
  } catch {
    return undefined;
  }
}

/** What experiment.json holds: the resolved configuration and the file it came from. */
export interface RunConfig {
  experimentPath: string;
  experiment: Experiment;
}

/**
 * Creates a new run folder with the configuration snapshot (experiment.json), never reusing an
 * existing one: named `runId` when given (refused if it exists: a launched run's job folder), else
 * <experiment>-<timestamp>, with a counter when that exists.
 */
export function createRunFolder(runsDir: string, experiment: Experiment, experimentPath: string, o: { when?: Date; runId?: string } = {}): { runId: string; runDir: string } {
  explainingWriteErrors(runsDir, () => fs.mkdirSync(runsDir, { recursive: true }));
  const base = o.runId ?? runFolderName(experiment.name, o.when ?? new Date());
  for (let attempt = 0; attempt < (o.runId ? 1 : 1000); attempt++) {
    const runId = attempt === 0 ? base : `${base}-${attempt + 1}`;
    const dir = runPath(runsDir, runId);
    try {
      fs.mkdirSync(dir); // fails if it exists: two runs at once never share a folder
    } catch (err) {
      const exists = (err as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(dir).isDirectory();
      // A fixed name's folder holding nothing but temporary files was left by a process killed while
      // creating it (before experiment.json): nothing was written there, so it is taken over.
      if (exists && !(o.runId && fs.readdirSync(dir).every((name) => TEMPORARY.test(name)))) continue;
      if (!exists) throw explainWriteError(err, dir);
    }
    const config: RunConfig = { experimentPath: path.resolve(experimentPath), experiment };
    writeJsonAtomic(path.join(dir, 'experiment.json'), config);
    return { runId, runDir: dir };
  }
  throw new Error(o.runId ? `run folder ${runPath(runsDir, o.runId)} exists already` : `could not create a run folder for "${experiment.name}" in ${runsDir}`);
}

/** A run folder's experiment.json; throws naming the file when it is missing or broken. */
export function readRunConfig(runDir: string): RunConfig {
  const file = path.join(runDir, 'experiment.json');
  let config: RunConfig;
  try {
    config = JSON.parse(fs.readFileSync(file, 'utf8')) as RunConfig;
  } catch (err) {
    throw new Error(`${file} cannot be read (${(err as Error).message}): is ${runDir} a gowide run folder?`);
  }
  if (typeof config?.experimentPath !== 'string' || typeof config.experiment !== 'object' || config.experiment === null) {
    throw new Error(`${file} is not a gowide run configuration (it needs "experimentPath" and "experiment")`);
  }
  return config;
}

/** Temporary files of atomic writes (atomic.ts) that a killed process left behind. Only the holder of
 *  run.lock writes in a run folder, so once it is held every such file is an orphan. */
const TEMPORARY = /^\..+\.\d+\.\d+\.tmp$/;

function removeTemporaryFiles(runDir: string): void {
  for (const folder of [runDir, path.join(runDir, 'checkpoints'), path.join(runDir, 'stages')]) {
    let names: string[];
    try {
      names = fs.readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) if (TEMPORARY.test(name)) fs.rmSync(path.join(folder, name), { force: true });
  }
}
