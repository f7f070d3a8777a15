// Job mode: `gowide run --job NAME --run-dir RUN`, one job of a launched run, as a launcher runs it
// (job-command.ts). The job trains the run's recorded experiment (RUN/experiment.json) for its seed
// and phases (RUN/jobs.json) into its own ordinary run folder RUN/jobs/NAME/, which only this process
// writes; a second invocation resumes that folder from its last good checkpoint. A job that needs the
// wide net restores its seed's from the wide job's folder, read-only.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jsonReport, summaryTable } from '../cli/report';
import { initEngine, getEngineInfo } from '../engine/engine';
import { runExperiment, type RunResult } from '../method/run-experiment';
import { checkpointNames } from '../method/seed-pipeline';
import type { BackendName } from '../protocol';
import { readCheckpoint } from '../runs/checkpoint';
import { readJournal, seedProgress } from '../runs/run-journal';
import { readRunConfig } from '../runs/run-store';
import type { TrainingEvents } from '../training/service';
import { JOB_EXIT, jobDir } from './job-command';
import { groupNeedsWide, jobName, type JobSpec } from './job-graph';
import { jobsFilePath, readJobsFile } from './jobs-file';

export interface JobRunOptions {
  runDir: string;
  job: string;
  signal?: AbortSignal;
  events?: Partial<TrainingEvents>;
}

/** What a job runs, checked before anything is written: its spec, the experiment, where its wide net comes from. */
export interface JobSetup {
  spec: JobSpec;
  config: ReturnType<typeof readRunConfig>;
  backend?: BackendName;
  /** The wide job's checkpoint folder, for a job that needs the wide net. */
  teacherCheckpoints?: string;
  /** Its folder exists: resume it. */
  resume: boolean;
}

export function prepareJob(runDir: string, job: string): JobSetup {
  const jobs = readJobsFile(runDir);
  const spec = jobs.jobs.find((j) => j.name === job);
  if (!spec) throw new Error(`${jobsFilePath(runDir)} has no job "${job}"; its jobs are ${jobs.jobs.map((j) => j.name).join(', ')}`);
  const config = readRunConfig(runDir);
  const teacherCheckpoints = groupNeedsWide(spec.group) ? committedWideNet(runDir, spec) : undefined;
  const resume = fs.existsSync(path.join(jobDir(runDir, job), 'experiment.json'));
  return { spec, config, backend: jobs.backend, teacherCheckpoints, resume };
}

/**
 * The checkpoint folder holding the wide net of the job's seed, committed by its wide job (the
 * checkpoint verifies and is the one that job committed); throws saying which job has to finish first.
 */
function committedWideNet(runDir: string, spec: JobSpec): string {
  const wideJob = jobName('wide', spec.seed);
  const folder = jobDir(runDir, wideJob);
  const needs = `job ${spec.name} needs the wide net of seed ${spec.seed}`;
  let progress;
  try {
    progress = seedProgress(readJournal(folder)?.entries ?? [], spec.seed);
  } catch (err) {
    throw new Error(`${needs}: job ${wideJob}'s journal cannot be read (${(err as Error).message})`);
  }
  const commit = progress.checkpoints.get(`seed${spec.seed}-${checkpointNames.wide}`);
  if (!commit || !progress.committed.has('wide')) throw new Error(`${needs}: job ${wideJob} has not finished`);
  const checkpoints = path.join(folder, 'checkpoints');
  try {
    const { index } = readCheckpoint(checkpoints, commit.checkpoint);
    if (index.sha256 !== commit.sha256) throw new Error(`checkpoint ${commit.checkpoint} was rewritten after it was committed (sha256 differs)`);
  } catch (err) {
    throw new Error(`${needs}: ${(err as Error).message}; run job ${wideJob} again`);
  }
  return checkpoints;
}

/** Runs (or resumes) one job; setup problems throw before anything is written. */
export async function runJob(o: JobRunOptions, setup = prepareJob(o.runDir, o.job)): Promise<RunResult> {
  const { spec, config } = setup;
  return runExperiment(config.experiment, {
    runsDir: path.join(o.runDir, 'jobs'),
    experimentPath: config.experimentPath,
    ...(setup.resume ? { runId: spec.name, resume: true } : { createAs: spec.name }),
    phases: spec.phases,
    seeds: [spec.seed],
    teacherCheckpoints: setup.teacherCheckpoints,
    backend: getEngineInfo()?.active,
    signal: o.signal,
    events: o.events,
  });
}

/** The CLI's job mode: exit codes from JOB_EXIT; SIGTERM and SIGINT stop the job at once, its folder resumable. */
export async function runJobCommand(a: { job: string; runDir: string; backend?: BackendName; json: boolean; quiet: boolean }): Promise<number> {
  const err = (message: string) => process.stderr.write(`gowide run --job ${a.job}: ${message}\n`);
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    err(`${signal}: stopping (the job's folder keeps everything up to its last checkpoint)`);
    controller.abort();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  let result: RunResult;
  try {
    // A job that cannot start would fail the same way when resubmitted.
    let setup: JobSetup;
    try {
      setup = prepareJob(a.runDir, a.job);
      await initEngine({ backend: a.backend ?? setup.backend ?? setup.config.experiment.backend, log: (m) => a.quiet || process.stderr.write(`${m}\n`) });
    } catch (e) {
      err((e as Error).message);
      return JOB_EXIT.failed;
    }
    if (!a.quiet) err(`${setup.resume ? 'resuming' : 'starting'} seed ${setup.spec.seed}: ${setup.spec.phases.join(', ')}`);
    try {
      result = await runJob({ runDir: a.runDir, job: a.job, signal: controller.signal, events: { onLog: (_, message) => a.quiet || err(message) } }, setup);
    } catch (e) {
      err((e as Error).message);
      return JOB_EXIT.failed;
    }
  } finally {
    process.removeListener('SIGTERM', stop);
    process.removeListener('SIGINT', stop);
  }
  const summary = result.summary;
  if (!a.quiet) process.stderr.write(`${summaryTable(summary)}\n`);
  if (summary.state !== 'done') err(`${summary.state}: ${summary.error ?? ''}`);
  if (a.json) process.stdout.write(`${JSON.stringify({ ...jsonReport(summary), job: a.job, backend: getEngineInfo()?.active })}\n`);
  return summary.state === 'done' ? JOB_EXIT.done : summary.state === 'stopped' ? JOB_EXIT.stopped : JOB_EXIT.failed;
}
