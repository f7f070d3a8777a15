// The command a launcher runs for one job, on whichever machine: the gowide CLI in job mode. It reads
// the job's seed and phases from <runDir>/jobs.json and the resolved experiment from
// <runDir>/experiment.json (not the experiment file, which may have changed, or name a sweep), and
// trains into <runDir>/jobs/<name>/, resuming that folder from its last good checkpoint when it exists.
import * as path from 'node:path';
import type { BackendName } from '../protocol';

/** How a job process ends (anything else, a signal included, means it died and may be resubmitted). */
export const JOB_EXIT = {
  done: 0,
  /** Training failed in a way a retry would repeat (a diverged loss, bad data): not resubmitted. */
  failed: 3,
  /** Stopped by SIGTERM or SIGINT (Stop, scancel): its folder is consistent and resumable. */
  stopped: 4,
} as const;

export interface JobCommandOptions {
  /** The CLI's entry script (dist/cli.js in the package). */
  cliPath: string;
  runDir: string;
  job: string;
  backend?: BackendName;
  /** The Node binary (default: this process's). */
  node?: string;
}

export function jobCommand(o: JobCommandOptions): string[] {
  return [o.node ?? process.execPath, o.cliPath, 'run', '--job', o.job, '--run-dir', path.resolve(o.runDir), '--json', ...(o.backend ? ['--backend', o.backend] : [])];
}

/** The folder of job `name` in a launched run, and its attempt logs. */
export const jobDir = (runDir: string, name: string): string => path.join(runDir, 'jobs', name);
export const jobLog = (runDir: string, name: string, attempt: number): string => path.join(runDir, 'jobs', `${name}.attempt${attempt}.log`);
