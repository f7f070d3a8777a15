// What a launcher does for the follower (follow-jobs.ts): submit one job with its dependencies, say
// how submitted jobs stand, point a waiting job at a resubmitted dependency, cancel. The local
// launcher runs jobs as child processes; the Slurm launcher through sbatch, squeue/scontrol, scancel.
import type { JobState, LauncherName } from '../protocol';
import type { JobSpec } from './job-graph';

export interface Submission {
  job: JobSpec;
  /** Launcher ids of the jobs it must wait for (they must complete successfully: afterok). */
  after: string[];
  /** The command line the job runs (argv; see jobCommand in job-command.ts). */
  argv: string[];
  /** Where its output goes. */
  log: string;
}

export interface JobReport {
  state: JobState;
  /** Why it waits (Slurm's Reason, e.g. "Dependency", "Resources") or how it ended ("exit 1", "signal SIGKILL"). */
  reason?: string;
}

export interface JobDriver {
  readonly launcher: LauncherName;
  /** Submits `s` and returns its launcher id. */
  submit(s: Submission): Promise<string>;
  /** Submits jobs of one group over seeds, none waiting for anything, as one unit where the launcher
   *  has one (a Slurm job array); returns their ids in order. Absent: the follower submits one by one. */
  submitBatch?(subs: readonly Submission[]): Promise<string[]>;
  /** The state of each id the launcher still knows; an id missing from the map is no longer known
   *  (Slurm forgets finished jobs after MinJobAge): the follower then reads the job's own folder. */
  poll(ids: readonly string[]): Promise<Map<string, JobReport>>;
  /** A waiting job now waits for `after` instead (a dependency was resubmitted under a new id). */
  redirect(id: string, after: string[]): Promise<void>;
  cancel(ids: readonly string[]): Promise<void>;
}
