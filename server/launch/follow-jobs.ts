// The follower: runs a run's job graph through a launcher (any JobDriver). It creates the launched
// run's folder (or reopens one to resume it), submits every job not yet completed in dependency
// order, records each attempt in jobs.json, then (unless detached) polls the launcher until every job
// has ended, telling the caller what the merged run looks like as it goes. A job whose own folder says
// it failed (training failed: a retry would repeat it) fails the run; one that died (killed, node
// lost, out of time) is resubmitted from its checkpoint, its waiting dependants pointed at the new id.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Experiment } from '../experiment/types';
import { LAUNCH_DEFAULTS, type BackendName, type JobState, type LaunchOptions, type LauncherName, type MetricRecord, type PhaseName, type RunState, type RunSummary } from '../protocol';
import { getMetrics, readSummary } from '../runs/list';
import { runPath } from '../runs/names';
import { acquireRunLock } from '../runs/run-lock';
import { readSummaryFile } from '../runs/run-store';
import { writeJsonAtomic } from '../runs/atomic';
import type { TrainingEvents } from '../training/service';
import type { JobDriver, Submission } from './driver';
import { dependencyOrder, type JobSpec } from './job-graph';
import { JOB_EXIT, jobCommand, jobDir, jobLog } from './job-command';
import { createLaunchedRun, readJobsFile, writeJobsFile, type Attempt, type JobsFile, type LaunchedJob } from './jobs-file';

/** How often the follower asks the launcher how its jobs stand. */
export const POLL_MS: Record<LauncherName, number> = { local: 250, slurm: 2000 };

export interface FollowOptions {
  driver: JobDriver;
  launch: LaunchOptions;
  /** The CLI's entry script the jobs run (dist/cli.js). */
  cliPath: string;
  runsDir: string;
  experimentPath: string;
  /** New run: the resolved experiment, the phases and the seeds it plans. */
  experiment?: Experiment;
  phases?: PhaseName[];
  seeds?: number[];
  backend?: BackendName;
  /** Resume this launched run: completed jobs are kept, the rest resubmitted. */
  runId?: string;
  signal?: AbortSignal;
  events?: Partial<TrainingEvents>;
  /** Called once the run folder exists and its jobs are submitted. */
  onStarted?: (summary: RunSummary) => void;
  pollMs?: number;
}

const LIVE: readonly JobState[] = ['PENDING', 'RUNNING'];
const isLive = (state: JobState | undefined) => state !== undefined && LIVE.includes(state);
const latest = (job: LaunchedJob): Attempt | undefined => job.attempts.at(-1);
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });

/** The last line a job wrote to its log (its error, when it failed before its folder could say). */
function lastLine(log: string): string | undefined {
  try {
    return fs.readFileSync(log, 'utf8').trim().split('\n').at(-1) || undefined;
  } catch {
    return undefined;
  }
}

/** A job's own run folder says how it ended: done, failed (training failed), or neither (it died). */
const jobFolderState = (runDir: string, name: string): RunState | undefined => readSummaryFile(jobDir(runDir, name))?.state;

/** Runs (or resumes) a launched run; settles when every job has ended, or once submitted with detach. */
export async function followJobs(o: FollowOptions): Promise<RunSummary> {
  if (o.launch.detach && o.driver.launcher === 'local') throw new Error('a local run cannot be detached: its jobs are child processes of the follower (detach is for Slurm)');
  const { runDir, file } = openRun(o);
  const unlock = acquireRunLock(runDir);
  const follower = new Follower(o, runDir, file);
  try {
    try {
      await follower.submitUnfinished();
    } catch (err) {
      // The launcher took none of a new run's jobs (sbatch refused its options): like a setup error,
      // it leaves no run folder behind.
      if (!o.runId && file.jobs.every((j) => j.attempts.length === 0)) fs.rmSync(runDir, { recursive: true, force: true });
      throw err;
    }
    o.onStarted?.(follower.summary());
    if (o.launch.detach) return follower.summary();
    return await follower.follow();
  } finally {
    unlock();
  }
}

function openRun(o: FollowOptions): { runDir: string; file: JobsFile } {
  if (o.runId) {
    const runDir = runPath(o.runsDir, o.runId);
    return { runDir, file: readJobsFile(runDir) };
  }
  if (!o.experiment || !o.phases || !o.seeds) throw new Error('a new launched run needs its experiment, phases and seeds');
  const { runDir } = createLaunchedRun({ runsDir: o.runsDir, experimentPath: o.experimentPath, experiment: o.experiment, launch: o.launch, phases: o.phases, seeds: o.seeds, backend: o.backend });
  return { runDir, file: readJobsFile(runDir) };
}

class Follower {
  private readonly maxRetries: number;
  private readonly byName: Map<string, LaunchedJob>;
  private lastSummary = '';
  private lastSeq = -1;

  constructor(
    private readonly o: FollowOptions,
    private readonly runDir: string,
    private readonly file: JobsFile,
  ) {
    this.maxRetries = o.launch.maxRetries ?? file.launch.maxRetries ?? LAUNCH_DEFAULTS.maxRetries;
    this.byName = new Map(file.jobs.map((j) => [j.name, j]));
  }

  private get runId(): string {
    return path.basename(this.runDir);
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.o.events?.onLog?.(level, `${this.runId}: ${message}`);
  }

  /** The merged view of the run: jobs.json and every job's folder (merged-run.ts). */
  summary(): RunSummary {
    const merged = readSummary(this.runDir);
    if (!merged) throw new Error(`cannot read the launched run ${this.runDir} back`);
    return merged;
  }

  /** summary.json, for whoever reads the folder without gowide's merging readers. */
  private writeSummary(summary: RunSummary): void {
    writeJsonAtomic(path.join(this.runDir, 'summary.json'), summary);
  }

  private save(): void {
    writeJobsFile(this.runDir, this.file);
  }

  /** Keeps completed jobs and jobs the launcher still runs; submits the rest in dependency order. */
  async submitUnfinished(): Promise<void> {
    const reports = await this.o.driver.poll(this.liveIds());
    const toSubmit: LaunchedJob[] = [];
    for (const job of dependencyOrder(this.file.jobs) as LaunchedJob[]) {
      const attempt = latest(job);
      const report = attempt && reports.get(attempt.jobId);
      if (attempt && report && isLive(report.state)) {
        attempt.state = report.state; // still queued or running (a detached Slurm run): follow it as it is
        continue;
      }
      if (jobFolderState(this.runDir, job.name) === 'done') {
        if (attempt) attempt.state = 'COMPLETED';
        continue;
      }
      toSubmit.push(job);
    }
    try {
      await this.submit(toSubmit);
    } catch (err) {
      // A refused submission (a bad --slurm-option, say): nothing of the run may go on without the rest.
      await this.cancel(this.liveJobs(), `another job of the run could not be submitted`).catch(() => undefined);
      throw err;
    } finally {
      this.save();
      this.writeSummary(this.summary());
    }
  }

  /** Submits `jobs` (in dependency order): dependency-free jobs of one group together where the
   *  launcher takes a batch (a Slurm array over seeds), each other job after the current ids of the
   *  jobs it needs. */
  private async submit(jobs: LaunchedJob[]): Promise<void> {
    const { driver } = this.o;
    const batches = new Map<string, LaunchedJob[]>();
    if (driver.submitBatch) {
      const free = jobs.filter((j) => this.afterOf(j).length === 0 && !j.needs.some((n) => jobs.some((k) => k.name === n)));
      for (const j of free) batches.set(j.group, [...(batches.get(j.group) ?? []), j]);
      for (const [group, batch] of batches) if (batch.length < 2) batches.delete(group);
    }
    for (const batch of batches.values()) {
      const subs = batch.map((j) => this.submission(j, []));
      const ids = await driver.submitBatch!(subs);
      batch.forEach((j, i) => this.recordAttempt(j, ids[i], subs[i].log));
    }
    for (const job of jobs) {
      if (batches.get(job.group)?.includes(job)) continue;
      const sub = this.submission(job, this.afterOf(job));
      this.recordAttempt(job, await driver.submit(sub), sub.log);
    }
  }

  /** The launcher ids a job must wait for: the latest attempts of its needs that have not completed. */
  private afterOf(job: JobSpec): string[] {
    return job.needs.flatMap((need) => {
      const attempt = latest(this.byName.get(need)!);
      return attempt && attempt.state !== 'COMPLETED' ? [attempt.jobId] : [];
    });
  }

  private submission(job: LaunchedJob, after: string[]): Submission {
    const log = jobLog(this.runDir, job.name, job.attempts.length + 1);
    const argv = jobCommand({ cliPath: this.o.cliPath, runDir: this.runDir, job: job.name, backend: this.file.backend });
    return { job, after, argv, log };
  }

  private recordAttempt(job: LaunchedJob, jobId: string, log: string): void {
    job.attempts.push({ jobId, submittedAt: new Date().toISOString(), log, state: 'PENDING' });
    this.log('info', `job ${job.name} submitted as ${jobId}${job.attempts.length > 1 ? ` (attempt ${job.attempts.length})` : ''}`);
  }

  private liveJobs(): LaunchedJob[] {
    return this.file.jobs.filter((j) => isLive(latest(j)?.state));
  }

  private liveIds(): string[] {
    return this.file.jobs.flatMap((j) => (latest(j) && latest(j)!.state !== 'COMPLETED' ? [latest(j)!.jobId] : []));
  }

  /** Polls until no job is pending or running; Stop (the signal) cancels every job. */
  async follow(): Promise<RunSummary> {
    const every = this.o.pollMs ?? POLL_MS[this.o.driver.launcher];
    this.publish();
    while (this.liveJobs().length > 0) {
      if (this.o.signal?.aborted) {
        await this.cancel(this.liveJobs(), 'stopped');
        break;
      }
      await this.update();
      this.publish();
      if (this.liveJobs().length > 0) await sleep(every, this.o.signal);
    }
    this.publish();
    const summary = this.summary();
    this.writeSummary(summary);
    return summary;
  }

  /** One round: each live job's state from the launcher, and what to do about the ones that ended. */
  private async update(): Promise<void> {
    const live = this.liveJobs();
    const reports = await this.o.driver.poll(live.map((j) => latest(j)!.jobId));
    let changed = false;
    for (const job of live) {
      const attempt = latest(job)!;
      if (!isLive(attempt.state)) continue; // cancelled earlier in this round
      const report = reports.get(attempt.jobId);
      if (report && isLive(report.state)) {
        if (report.state !== attempt.state || report.reason !== attempt.reason) {
          attempt.state = report.state;
          attempt.reason = report.reason;
          changed = true;
        }
        continue;
      }
      changed = true;
      await this.ended(job, attempt, report?.reason ?? (report ? report.state : 'no longer known to the launcher'), report?.state);
    }
    if (changed) await this.cancelBlocked();
    if (changed) this.save();
  }

  /** Jobs waiting for a job that ended without completing (failed for good, cancelled) can never
   *  start (the launcher keeps them pending: DependencyNeverSatisfied): cancel them, and theirs. */
  private async cancelBlocked(): Promise<void> {
    for (const job of dependencyOrder(this.file.jobs) as LaunchedJob[]) {
      if (!isLive(latest(job)?.state)) continue;
      const dead = job.needs.find((need) => {
        const state = latest(this.byName.get(need)!)?.state;
        return state !== undefined && !isLive(state) && state !== 'COMPLETED';
      });
      if (dead) await this.cancel([job], `needs ${dead}, which did not complete`);
    }
  }

  /** A job is no longer pending or running: its folder says whether it completed, failed, or died. */
  private async ended(job: LaunchedJob, attempt: Attempt, reason: string, launcherState?: JobState): Promise<void> {
    const folder = jobFolderState(this.runDir, job.name);
    if (folder === 'done') {
      attempt.state = 'COMPLETED';
      attempt.reason = undefined;
      return;
    }
    // Its folder says failed, or the job said so by its exit code before it had a folder (bad data, a
    // broken experiment.json): a retry would fail the same way.
    if (folder === 'failed' || reason === `exit ${JOB_EXIT.failed}`) {
      attempt.state = 'FAILED';
      attempt.reason = readSummaryFile(jobDir(this.runDir, job.name))?.error ?? lastLine(attempt.log) ?? reason;
      this.log('error', `job ${job.name} failed: ${attempt.reason} (log: ${attempt.log})`);
      return;
    }
    attempt.state = launcherState && !isLive(launcherState) && launcherState !== 'COMPLETED' ? launcherState : 'FAILED';
    attempt.reason = reason;
    if (job.attempts.length <= this.maxRetries) {
      this.log('warn', `job ${job.name} died (${reason}); resubmitting it from its last checkpoint (attempt ${job.attempts.length + 1} of ${this.maxRetries + 1}); its log: ${attempt.log}`);
      const sub = this.submission(job, this.afterOf(job));
      this.recordAttempt(job, await this.o.driver.submit(sub), sub.log);
      await this.redirectDependants(job);
      return;
    }
    this.log('error', `job ${job.name} died (${reason}) after ${job.attempts.length} attempt${job.attempts.length > 1 ? 's' : ''}; its log: ${attempt.log}`);
  }

  /** The jobs waiting for `job` now wait for its new attempt. */
  private async redirectDependants(job: LaunchedJob): Promise<void> {
    for (const dependant of this.liveJobs()) {
      if (!dependant.needs.includes(job.name) || latest(dependant)!.state !== 'PENDING') continue;
      await this.o.driver.redirect(latest(dependant)!.jobId, this.afterOf(dependant));
    }
  }


  private async cancel(jobs: LaunchedJob[], reason: string): Promise<void> {
    if (jobs.length === 0) return;
    await this.o.driver.cancel(jobs.map((j) => latest(j)!.jobId));
    for (const j of jobs) {
      // A job may have finished between the last poll and the cancel: its folder says so.
      const attempt = latest(j)!;
      const finished = jobFolderState(this.runDir, j.name) === 'done';
      attempt.state = finished ? 'COMPLETED' : 'CANCELLED';
      attempt.reason = finished ? undefined : reason;
    }
    this.save();
  }

  /** Tells the caller what changed: the merged summary, new metric records, progress. */
  private publish(): void {
    const events = this.o.events;
    if (!events) return;
    const summary = this.summary();
    const text = JSON.stringify(summary);
    if (text !== this.lastSummary) {
      this.lastSummary = text;
      events.onRunState?.(summary);
    }
    const records: MetricRecord[] = getMetrics(this.o.runsDir, this.runId, this.lastSeq);
    if (records.length > 0) {
      this.lastSeq = records.at(-1)!.seq;
      events.onMetrics?.(this.runId, records);
    }
    const jobs = this.file.jobs;
    const done = jobs.filter((j) => latest(j)?.state === 'COMPLETED').length;
    const running = jobs.filter((j) => latest(j)?.state === 'RUNNING');
    const first = running[0] ?? jobs.find((j) => latest(j)?.state !== 'COMPLETED') ?? jobs[0];
    events.onProgress?.({
      runId: this.runId,
      phase: first.phases[0],
      seed: first.seed,
      fraction: jobs.length > 0 ? done / jobs.length : 1,
      message: `${done} of ${jobs.length} jobs done${running.length > 0 ? `; running ${running.map((j) => j.name).join(', ')}` : ''}`,
    });
  }
}

/** Stop for a launched run that nobody follows (a detached Slurm run): cancels every job jobs.json
 *  names that has not completed. False when there was none. */
export async function cancelLaunchedRun(runDir: string, driver: JobDriver): Promise<boolean> {
  const unlock = acquireRunLock(runDir);
  try {
    const file = readJobsFile(runDir);
    const open = file.jobs.flatMap((job) => {
      const attempt = latest(job);
      return attempt && attempt.state !== 'COMPLETED' && attempt.state !== 'CANCELLED' && jobFolderState(runDir, job.name) !== 'done' ? [attempt] : [];
    });
    if (open.length === 0) return false;
    await driver.cancel(open.map((a) => a.jobId));
    for (const attempt of open) {
      attempt.state = 'CANCELLED';
      attempt.reason = 'stopped';
    }
    writeJobsFile(runDir, file);
    return true;
  } finally {
    unlock();
  }
}
