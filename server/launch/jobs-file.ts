// jobs.json: what a launched run's follower knows about its jobs. It lives in the parent run folder
// beside experiment.json, is written (atomically) only by the follower, and lists every job of the
// run's graph (job-graph.ts) with each attempt the launcher made at it. Readers (merged-run.ts) take
// the jobs from here and their progress from the jobs' own folders (jobs/<name>/).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Experiment } from '../experiment/types';
import { JOB_STATES, LAUNCHER_NAMES, PHASE_NAMES, type BackendName, type JobState, type LauncherName, type LaunchOptions, type PhaseName } from '../protocol';
import { writeJsonAtomic } from '../runs/atomic';
import { runPath } from '../runs/names';
import { createRunFolder } from '../runs/run-store';
import { jobGraph, type JobSpec } from './job-graph';

export const JOBS_FILE = 'jobs.json';

/** One submission of a job to the launcher. */
export interface Attempt {
  /** The launcher's id (a Slurm job id, "local-<n>"). */
  jobId: string;
  submittedAt: string;
  /** Its stdout and stderr (jobLog in job-command.ts). */
  log: string;
  /** Its state as the follower last saw it. */
  state: JobState;
  reason?: string;
}

export type LaunchedJob = JobSpec & { attempts: Attempt[] };

export interface JobsFile {
  format: 'gowide-jobs-1';
  launcher: LauncherName;
  launch: LaunchOptions;
  /** What the run trains: its phases for its seeds (the job graph is derived from these). */
  plan: { phases: PhaseName[]; seeds: number[] };
  /** The backend every job is told to use (absent: each job picks its own). */
  backend?: BackendName;
  /** When the run was launched (the run's startedAt). */
  startedAt: string;
  jobs: LaunchedJob[];
}

export const jobsFilePath = (runDir: string): string => path.join(runDir, JOBS_FILE);

/** Whether a run folder is a launched run's parent. */
export const isLaunchedRun = (runDir: string): boolean => fs.existsSync(jobsFilePath(runDir));

/** Reads and checks <runDir>/jobs.json; throws naming the file and what is wrong with it. */
export function readJobsFile(runDir: string): JobsFile {
  const file = jobsFilePath(runDir);
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${file} does not exist: ${runDir} is not a launched run` : `${file} is not valid JSON (${(err as Error).message}); it is written only by gowide's launcher: restore it or launch the run again`);
  }
  const problem = jobsFileProblem(value);
  if (problem) throw new Error(`${file} is not a gowide jobs file: ${problem}`);
  return value as JobsFile;
}

export function writeJobsFile(runDir: string, jobs: JobsFile): void {
  writeJsonAtomic(jobsFilePath(runDir), jobs);
}

/** What is wrong with a parsed jobs.json, or undefined when nothing is. */
function jobsFileProblem(value: unknown): string | undefined {
  const v = value as Partial<JobsFile> | null;
  if (typeof v !== 'object' || v === null) return 'it is not an object';
  if (v.format !== 'gowide-jobs-1') return `its "format" is ${JSON.stringify(v.format)}, not "gowide-jobs-1"`;
  if (!(LAUNCHER_NAMES as readonly unknown[]).includes(v.launcher)) return `its "launcher" is ${JSON.stringify(v.launcher)}, not one of ${LAUNCHER_NAMES.join(', ')}`;
  if (typeof v.launch !== 'object' || v.launch === null) return 'it has no "launch" options';
  if (!isPhaseList(v.plan?.phases) || !isSeedList(v.plan?.seeds)) return '"plan" needs "phases" (phase names) and "seeds" (integers)';
  if (typeof v.startedAt !== 'string') return 'it has no "startedAt"';
  if (!Array.isArray(v.jobs)) return 'it has no "jobs" list';
  for (const [i, job] of v.jobs.entries()) {
    const where = `jobs[${i}]`;
    if (typeof job?.name !== 'string' || !isRunId(job.name)) return `${where} has no usable "name" (letters, digits, '.', '_' and '-': it names the job's folder)`;
    if (typeof job.group !== 'string' || !Number.isInteger(job.seed) || !isPhaseList(job.phases) || !Array.isArray(job.needs)) return `${where} (${job.name}) needs "group", "seed", "phases" and "needs"`;
    if (!Array.isArray(job.attempts)) return `${where} (${job.name}) has no "attempts" list`;
    for (const a of job.attempts) {
      if (typeof a?.jobId !== 'string' || typeof a.log !== 'string' || !(JOB_STATES as readonly unknown[]).includes(a.state)) return `an attempt of ${job.name} needs "jobId", "log" and a "state" among ${JOB_STATES.join(', ')}`;
    }
  }
  return undefined;
}

const isPhaseList = (v: unknown): v is PhaseName[] => Array.isArray(v) && v.every((p) => (PHASE_NAMES as readonly unknown[]).includes(p));
const isSeedList = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((s) => Number.isInteger(s));
function isRunId(name: string): boolean {
  try {
    runPath('/', name);
    return true;
  } catch {
    return false;
  }
}

export interface LaunchedRunOptions {
  runsDir: string;
  /** The resolved experiment (the one every job trains) and the file it came from. */
  experiment: Experiment;
  experimentPath: string;
  phases: PhaseName[];
  seeds: number[];
  launch: LaunchOptions;
  backend?: BackendName;
}

/** Creates a launched run's parent folder (experiment.json, as any run) and its jobs.json: every job
 *  of the graph, none submitted yet. */
export function createLaunchedRun(o: LaunchedRunOptions): { runId: string; runDir: string } {
  const created = createRunFolder(o.runsDir, o.experiment, o.experimentPath);
  writeJobsFile(created.runDir, {
    format: 'gowide-jobs-1',
    launcher: o.launch.launcher,
    launch: o.launch,
    plan: { phases: o.phases, seeds: o.seeds },
    ...(o.backend ? { backend: o.backend } : {}),
    startedAt: new Date().toISOString(),
    jobs: jobGraph(o.phases, o.seeds).map((job) => ({ ...job, attempts: [] })),
  });
  return created;
}
