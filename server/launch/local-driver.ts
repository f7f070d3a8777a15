// The local launcher: each job is a child process of this one (jobCommand's argv), its stdout and
// stderr appended to the attempt's log, at most `slots` at once. Like Slurm's afterok, a job starts
// only once every job it waits for exited 0; one that cannot any more (a dependency failed or was
// cancelled) stays PENDING with Slurm's reason DependencyNeverSatisfied. Jobs start in submission order.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JobState } from '../protocol';
import type { JobDriver, JobReport, Submission } from './driver';

/** How long a cancelled job has to stop cleanly (SIGTERM) before it is killed (SIGKILL). */
export const CANCEL_GRACE_MS = 10_000;

interface LocalJob {
  id: string;
  submission: Submission;
  after: string[];
  state: JobState;
  reason?: string;
  child?: ChildProcess;
  cancelled?: boolean;
  /** Settles when the process has exited (or at once for a job that never started). */
  exited?: Promise<void>;
}

export interface LocalDriverOptions {
  /** Jobs running at once (default 1). */
  slots?: number;
  graceMs?: number;
}

export class LocalDriver implements JobDriver {
  readonly launcher = 'local' as const;
  private readonly jobs = new Map<string, LocalJob>();
  private readonly slots: number;
  private readonly graceMs: number;
  private next = 1;

  constructor(o: LocalDriverOptions = {}) {
    this.slots = Math.max(1, o.slots ?? 1);
    this.graceMs = o.graceMs ?? CANCEL_GRACE_MS;
  }

  async submit(s: Submission): Promise<string> {
    for (const id of s.after) if (!this.jobs.has(id)) throw new Error(`job ${s.job.name} waits for ${id}, which this launcher never ran`);
    const id = `local-${this.next++}`;
    this.jobs.set(id, { id, submission: s, after: [...s.after], state: 'PENDING' });
    this.schedule();
    return id;
  }

  async poll(ids: readonly string[]): Promise<Map<string, JobReport>> {
    const reports = new Map<string, JobReport>();
    for (const id of ids) {
      const job = this.jobs.get(id);
      if (job) reports.set(id, { state: job.state, ...(job.reason ? { reason: job.reason } : {}) });
    }
    return reports;
  }

  async redirect(id: string, after: string[]): Promise<void> {
    const job = this.jobs.get(id);
    if (!job || job.state !== 'PENDING') return;
    job.after = [...after];
    this.schedule();
  }

  /** Pending jobs are dropped; running ones get SIGTERM, then SIGKILL after the grace period. Settles
   *  when every one of them has exited. */
  async cancel(ids: readonly string[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const id of ids) {
      const job = this.jobs.get(id);
      if (!job) continue;
      if (job.state === 'PENDING') {
        job.state = 'CANCELLED';
        job.reason = 'cancelled before it started';
      } else if (job.state === 'RUNNING' && job.child) {
        job.cancelled = true;
        const child = job.child;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), this.graceMs);
        waits.push(job.exited!.finally(() => clearTimeout(timer)));
      }
    }
    await Promise.all(waits);
    this.schedule();
  }

  private running(): number {
    let n = 0;
    for (const job of this.jobs.values()) if (job.state === 'RUNNING') n++;
    return n;
  }

  /** Starts what may start; marks what never can. */
  private schedule(): void {
    for (const job of this.jobs.values()) {
      if (job.state !== 'PENDING') continue;
      const deps = job.after.map((id) => this.jobs.get(id)?.state);
      if (deps.some((s) => s !== undefined && s !== 'PENDING' && s !== 'RUNNING' && s !== 'COMPLETED')) {
        job.reason = 'DependencyNeverSatisfied';
      } else if (deps.some((s) => s !== 'COMPLETED')) {
        job.reason = 'Dependency';
      } else if (this.running() >= this.slots) {
        job.reason = 'Resources';
      } else {
        this.start(job);
      }
    }
  }

  private start(job: LocalJob): void {
    const { argv, log } = job.submission;
    fs.mkdirSync(path.dirname(log), { recursive: true });
    const out = fs.openSync(log, 'a');
    job.state = 'RUNNING';
    job.reason = undefined;
    try {
      job.child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', out, out] });
    } finally {
      fs.closeSync(out); // the child holds its own copy
    }
    job.exited = new Promise<void>((resolve) => {
      const end = (state: JobState, reason: string) => {
        if (job.state !== 'RUNNING') return;
        job.state = job.cancelled ? 'CANCELLED' : state;
        job.reason = reason;
        job.child = undefined;
        resolve();
        this.schedule();
      };
      job.child!.once('error', (err) => end('FAILED', `could not start ${argv[0]}: ${err.message}`));
      job.child!.once('exit', (code, signal) => end(code === 0 ? 'COMPLETED' : 'FAILED', signal ? `signal ${signal}` : `exit ${code}`));
    });
  }
}
