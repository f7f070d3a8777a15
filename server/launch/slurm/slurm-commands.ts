// Slurm's client commands as functions: sbatch, squeue, scontrol, scancel, run as child processes on
// the machine gowide runs on (a cluster's login node), and what they print read back into JOB_STATES.
// Accounting (sacct) is not assumed: squeue lists a finished job for MinJobAge seconds, scontrol as well.
import { execFile } from 'node:child_process';
import { constants } from 'node:os';
import type { JobState } from '../../protocol';
import type { JobReport } from '../driver';

/** What runs a Slurm command: its stdout, or an error saying what failed and how to fix it. */
export async function slurmCommand(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new Error(`${command} not found: gowide's Slurm launcher runs on a machine with Slurm's client commands (a cluster's login node)`));
      }
      reject(new SlurmCommandError(command, args, stderr.trim() || err.message));
    });
  });
}

export class SlurmCommandError extends Error {
  constructor(readonly command: string, readonly args: readonly string[], readonly stderr: string) {
    super(`${command} ${args.join(' ')} failed: ${stderr}`);
  }
}

/** slurmctld out of reach for a moment (restarting, overloaded): a question may be asked again. */
const isUnreachable = (e: unknown): boolean =>
  e instanceof SlurmCommandError && /Unable to contact slurm controller|Socket timed out|Connection refused|Zero Bytes were transmitted/i.test(e.stderr);

/** Waits between tries of a question while slurmctld is out of reach (each try itself waits about 18 s
 *  for a silent controller: some 2 minutes in all). */
export const QUERY_RETRY_MS = [500, 1000, 2000, 4000, 8000];

/** A command that only asks (squeue, scontrol show): asked again while slurmctld is out of reach, since
 *  an error here would make the follower take running jobs for lost ones. Submissions are not repeated
 *  (one that timed out may still have been queued). */
export async function slurmQuery(command: string, args: readonly string[]): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await slurmCommand(command, args);
    } catch (e) {
      if (!isUnreachable(e) || attempt >= QUERY_RETRY_MS.length) throw e;
      await new Promise((resolve) => setTimeout(resolve, QUERY_RETRY_MS[attempt]));
    }
  }
}

/** Slurm's answer to an id it does not know (never submitted, or forgotten after MinJobAge). */
const isUnknownJob = (e: unknown): boolean => e instanceof SlurmCommandError && /Invalid job id/i.test(e.stderr);

/** Submits a batch script; returns the job id (an array's base id). */
export async function sbatch(args: readonly string[], script: string): Promise<string> {
  const out = await slurmCommand('sbatch', ['--parsable', ...args, script]);
  // --parsable prints "ID" or "ID;CLUSTER".
  const id = out.trim().split(';')[0]!;
  if (!/^\d+$/.test(id)) throw new Error(`sbatch answered '${out.trim()}' where a job id was expected`);
  return id;
}

/** Slurm's long state names, in JOB_STATES; the passing ones as what they lead to. */
const STATE_MAP: Record<string, JobState> = {
  PENDING: 'PENDING', REQUEUED: 'PENDING', REQUEUE_HOLD: 'PENDING', REQUEUE_FED: 'PENDING', RESV_DEL_HOLD: 'PENDING',
  // Nodes being set up for it: not running yet.
  CONFIGURING: 'PENDING',
  RUNNING: 'RUNNING', COMPLETING: 'RUNNING', SUSPENDED: 'RUNNING', STOPPED: 'RUNNING', SIGNALING: 'RUNNING',
  STAGE_OUT: 'RUNNING', RESIZING: 'RUNNING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED', SPECIAL_EXIT: 'FAILED',
  CANCELLED: 'CANCELLED', REVOKED: 'CANCELLED',
  TIMEOUT: 'TIMEOUT', DEADLINE: 'TIMEOUT',
  NODE_FAIL: 'NODE_FAIL', BOOT_FAIL: 'NODE_FAIL',
  OUT_OF_MEMORY: 'OUT_OF_MEMORY',
  PREEMPTED: 'PREEMPTED',
};

export function jobState(slurmState: string): JobState {
  // scontrol may add flags ("CANCELLED by 0", "RUNNING+..."): the first word is the state.
  const word = slurmState.trim().split(/[\s+]/)[0]!.toUpperCase();
  const state = STATE_MAP[word];
  if (!state) throw new Error(`Slurm reported a job state gowide does not know: '${slurmState}'`);
  return state;
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name]));

/** How a job ended, from its exit code as waitpid gives it (squeue's exit_code) or as exit:signal (scontrol's ExitCode). */
export function endedHow(exit: number, signal: number): string | undefined {
  if (signal > 0) return `signal ${SIGNAL_NAMES.get(signal) ?? signal}`;
  return exit > 0 ? `exit ${exit}` : undefined;
}

/**
 * A job's report from Slurm's words: a waiting or running job's Reason (absent when Slurm says None);
 * an ended job's exit or signal, else its Reason.
 */
export function jobReport(slurmState: string, slurmReason: string, ended: string | undefined): JobReport {
  const state = jobState(slurmState);
  const said = slurmReason && slurmReason !== 'None' && slurmReason !== '(null)' ? slurmReason : undefined;
  const over = state !== 'PENDING' && state !== 'RUNNING';
  const reason = over ? ended ?? said : said;
  return reason ? { state, reason } : { state };
}

const SQUEUE_FIELDS = 'JobArrayID:0|,State:0|,Reason:0|,exit_code:0';

/** Parses squeue's lines of SQUEUE_FIELDS: id|state|reason|exit status (waitpid's encoding). */
export function parseSqueue(out: string): Map<string, JobReport> {
  const reports = new Map<string, JobReport>();
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const [id, state, reason, status] = line.split('|').map((s) => s.trim());
    const code = Number(status);
    const ended = Number.isInteger(code) ? endedHow(code >> 8, code & 0x7f) : undefined;
    reports.set(id!, jobReport(state!, reason ?? '', ended));
  }
  return reports;
}

/** The jobs squeue still lists among `ids` (finished ones included, array tasks one per line). */
export async function squeue(ids: readonly string[]): Promise<Map<string, JobReport>> {
  if (ids.length === 0) return new Map();
  try {
    return parseSqueue(await slurmQuery('squeue', ['--noheader', '--array', '--states=all', `--jobs=${ids.join(',')}`, `--Format=${SQUEUE_FIELDS}`]));
  } catch (e) {
    // None of the ids is known any more.
    if (isUnknownJob(e)) return new Map();
    throw e;
  }
}

/** Parses `scontrol show job -o` (one line per job, KEY=VALUE words). */
export function parseScontrolJob(out: string): JobReport | undefined {
  const fields = new Map<string, string>();
  for (const m of out.matchAll(/(\w+)=(\S*)/g)) if (!fields.has(m[1]!)) fields.set(m[1]!, m[2]!);
  const state = fields.get('JobState');
  if (!state) return undefined;
  const [exit, signal] = (fields.get('ExitCode') ?? '0:0').split(':').map(Number);
  return jobReport(state, fields.get('Reason') ?? '', endedHow(exit ?? 0, signal ?? 0));
}

/** One job as scontrol knows it; undefined when Slurm no longer knows it. */
export async function scontrolShowJob(id: string): Promise<JobReport | undefined> {
  try {
    return parseScontrolJob(await slurmQuery('scontrol', ['--oneliner', 'show', 'job', id]));
  } catch (e) {
    if (isUnknownJob(e)) return undefined;
    throw e;
  }
}

/** A pending job now waits for `after` (all must complete successfully). */
export async function setDependency(id: string, after: readonly string[]): Promise<void> {
  await slurmCommand('scontrol', ['update', `JobId=${id}`, `Dependency=${afterOk(after)}`]);
}

/** sbatch's and scontrol's form of "after each of these completed successfully" ("" for none). */
export const afterOk = (ids: readonly string[]): string => (ids.length > 0 ? `afterok:${ids.join(':')}` : '');

/** Cancels jobs (scancel is silent about ids that already ended). */
export async function scancel(ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await slurmCommand('scancel', [...ids]);
}
