// A launched run read as one run. Its jobs write separate folders (jobs/<name>/, one writer each);
// readers merge them here: the arms from each seed's outcomes as the jobs committed them (the same
// summarizeArms / pairedComparisons / summarizeDiagnostics as a single run), the stages across jobs,
// the metric records of all jobs in one sequence, and each job's state from jobs.json and its folder.
import * as path from 'node:path';
import { emptyOutcome, type SeedOutcome } from '../method/seed-pipeline';
import { PHASE_NAMES, type JobState, type JobStatus, type MetricRecord, type RunState, type RunSummary, type StageStatus } from '../protocol';
import { readMetricsFile } from '../runs/metrics-log';
import { pairedComparisons } from '../runs/paired';
import { readJournal, seedProgress } from '../runs/run-journal';
import { readRunConfig, readSummaryFile } from '../runs/run-store';
import { summarizeArms, summarizeDiagnostics } from '../runs/summary';
import { jobDir } from './job-command';
import { readJobsFile, type LaunchedJob } from './jobs-file';

/** A job as its folder shows it: its own summary and the outcome of its latest commit point. */
interface JobView {
  job: LaunchedJob;
  summary?: RunSummary;
  outcome?: SeedOutcome;
}

function viewJob(runDir: string, job: LaunchedJob): JobView {
  const folder = jobDir(runDir, job.name);
  let outcome: SeedOutcome | undefined;
  try {
    outcome = seedProgress(readJournal<SeedOutcome>(folder)?.entries ?? [], job.seed).outcome;
  } catch {
    // a journal being replaced or damaged: the job shows no results until it is readable again
  }
  return { job, summary: readSummaryFile(folder), outcome };
}

/** One seed's outcome from its jobs' outcomes: each job contributes the arms and phases it ran. */
function mergeOutcomes(seed: number, outcomes: readonly SeedOutcome[]): SeedOutcome {
  const merged = emptyOutcome(seed);
  for (const o of outcomes) {
    Object.assign(merged.test, o.test);
    Object.assign(merged.seconds, o.seconds);
    merged.params = { thin: o.params.thin || merged.params.thin, wide: o.params.wide || merged.params.wide };
    merged.wideValidationAccuracy ??= o.wideValidationAccuracy;
    merged.warmStartAccuracy ??= o.warmStartAccuracy;
    merged.headShared ??= o.headShared;
    merged.imitation.push(...o.imitation);
  }
  return merged;
}

const FAILED_STATES: readonly JobState[] = ['FAILED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED'];
const FOLDER_JOB_STATE: Record<RunState, JobState> = { queued: 'PENDING', running: 'RUNNING', done: 'COMPLETED', failed: 'FAILED', stopped: 'CANCELLED' };

/** A job's state: COMPLETED once its folder says done (whatever the launcher last said), else what
 *  the launcher said of its latest attempt, else (never submitted by a follower) what its folder says. */
function jobStatus(v: JobView): JobStatus {
  const last = v.job.attempts.at(-1);
  const folderState = v.summary ? FOLDER_JOB_STATE[v.summary.state] : 'PENDING';
  const state: JobState = folderState === 'COMPLETED' ? 'COMPLETED' : (last?.state ?? folderState);
  return {
    name: v.job.name,
    stage: v.job.group,
    seed: v.job.seed,
    phases: v.job.phases,
    jobId: last?.jobId ?? null,
    state,
    ...(state !== 'COMPLETED' && last?.reason ? { reason: last.reason } : {}),
    attempts: v.job.attempts.length,
    ...(last ? { log: last.log } : {}),
  };
}

/** A stage over the jobs that run it: done when all are, running while any runs or some are done, else failed, stopped, queued. */
function mergeStage(phase: StageStatus['stage'], parts: readonly StageStatus[]): StageStatus {
  const states = parts.map((p) => p.state);
  const state: RunState = states.every((s) => s === 'done')
    ? 'done'
    : states.includes('running')
      ? 'running'
      : states.includes('failed')
        ? 'failed'
        : states.includes('stopped')
          ? 'stopped'
          : states.includes('done')
            ? 'running'
            : 'queued';
  return { ...Object.assign({}, ...parts), stage: phase, state };
}

/** The run's state from its jobs': running while any waits or runs, then done, failed or stopped. */
function runState(jobs: readonly JobStatus[]): RunState {
  const states = jobs.map((j) => j.state);
  if (states.some((s) => s === 'PENDING' || s === 'RUNNING')) return 'running';
  if (states.every((s) => s === 'COMPLETED')) return 'done';
  return states.some((s) => FAILED_STATES.includes(s)) ? 'failed' : 'stopped';
}

/** The merged summary of a launched run (its folder holds jobs.json); throws when jobs.json or experiment.json is broken. */
export function mergedSummary(runDir: string): RunSummary {
  const jobsFile = readJobsFile(runDir);
  const config = readRunConfig(runDir);
  const views = jobsFile.jobs.map((job) => viewJob(runDir, job));
  const jobs = views.map(jobStatus);

  const outcomes = jobsFile.plan.seeds.map((seed) =>
    mergeOutcomes(
      seed,
      views.filter((v) => v.job.seed === seed && v.outcome).map((v) => v.outcome!),
    ),
  );
  const stages = PHASE_NAMES.filter((phase) => views.some((v) => v.job.phases.includes(phase))).map((phase) =>
    mergeStage(
      phase,
      views.filter((v) => v.job.phases.includes(phase)).map((v) => v.summary?.stages.find((s) => s.stage === phase) ?? { stage: phase, state: 'queued' }),
    ),
  );
  const model = views.find((v) => v.job.group === 'win' && v.job.seed === jobsFile.plan.seeds[0])?.summary?.diagnostics?.model;
  const state = runState(jobs);
  // A failed run tells the job that failed (not the dependants cancelled after it); a stopped one the first job stopped.
  const failing = state === 'failed' ? jobs.findIndex((j) => FAILED_STATES.includes(j.state)) : state === 'stopped' ? jobs.findIndex((j) => j.state !== 'COMPLETED') : -1;
  const error = failing >= 0 ? jobError(views[failing], jobs[failing]) : undefined;
  return {
    runId: path.basename(runDir),
    runDir: path.resolve(runDir),
    experiment: config.experiment.name,
    experimentPath: config.experimentPath,
    state,
    startedAt: jobsFile.startedAt,
    backend: views.find((v) => v.summary?.backend)?.summary?.backend ?? jobsFile.backend,
    stages,
    arms: summarizeArms(outcomes),
    paired: pairedComparisons(outcomes),
    ...(error ? { error } : {}),
    diagnostics: summarizeDiagnostics(outcomes, model ? { model } : {}),
    launcher: jobsFile.launcher,
    jobs,
  };
}

function jobError(v: JobView, status: JobStatus): string {
  const why = v.summary?.error ?? status.reason ?? status.state;
  return `job ${v.job.name} ${status.state.toLowerCase()}: ${why}${status.log ? ` (log: ${status.log})` : ''}`;
}

/**
 * Every job's metric records as one sequence: ordered by time, then by the job's place in jobs.json,
 * then by the job's own seq; numbered 0..n-1 under the parent's run id. Only records with seq above
 * `afterSeq` are returned. A job resumed after a crash cuts its own file back to its commit point, so
 * no record appears twice.
 */
export function mergedMetrics(runDir: string, afterSeq = -1): MetricRecord[] {
  const runId = path.basename(runDir);
  const all = readJobsFile(runDir).jobs.flatMap((job, order) => readMetricsFile(path.join(jobDir(runDir, job.name), 'metrics.jsonl')).map((record) => ({ record, order })));
  all.sort((a, b) => a.record.time - b.record.time || a.order - b.order || a.record.seq - b.record.seq);
  return all.map(({ record }, seq) => ({ ...record, runId, seq })).filter((r) => r.seq > afterSeq);
}
