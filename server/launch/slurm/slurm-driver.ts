// The Slurm launcher: each job a batch job (sbatch) whose script, written into the run folder next to
// its log, execs the job's command; the seeds of a dependency-free group as one job array; the edges
// as afterok dependencies. The run folder must be on a file system the nodes share.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { LaunchOptions } from '../../protocol';
import type { JobDriver, JobReport, Submission } from '../driver';
import { afterOk, sbatch, scancel, scontrolShowJob, setDependency, squeue } from './slurm-commands';

export type SlurmDriverOptions = Pick<LaunchOptions, 'slurmOptions' | 'gpusPerJob'>;

/** The Slurm job name of a submission, gowide-<run>-<job>: the run is the folder its logs are in
 *  (<runDir>/jobs/<job>.attempt<k>.log, jobLog in job-command.ts). */
export const slurmJobName = (s: Submission, job = s.job.name): string =>
  `gowide-${path.basename(path.dirname(path.dirname(path.resolve(s.log))))}-${job}`;

/** A word for a POSIX shell, quoted. */
export const shellWord = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;
const commandLine = (argv: readonly string[]): string => argv.map(shellWord).join(' ');

/** The batch script of one job: replaces the shell with the job's command, so Slurm's signals reach it. */
export function jobScript(s: Submission): string {
  return `#!/bin/sh\n# gowide job ${s.job.name}: written by gowide's Slurm launcher.\nexec ${commandLine(s.argv)}\n`;
}

/** The batch script of a job array: task i writes its own log and execs the command of subs[i]. */
export function arrayScript(subs: readonly Submission[]): string {
  const cases = subs.map((s, i) => `  ${i}) exec >>${shellWord(s.log)} 2>&1; exec ${commandLine(s.argv)} ;;`);
  return [
    '#!/bin/sh',
    `# gowide jobs ${subs.map((s) => s.job.name).join(', ')}: one array task each, written by gowide's Slurm launcher.`,
    'case "$SLURM_ARRAY_TASK_ID" in',
    ...cases,
    '  *) echo "gowide: no job for array task $SLURM_ARRAY_TASK_ID" >&2; exit 2 ;;',
    'esac',
    '',
  ].join('\n');
}

/** Where a job's script goes: beside its log, same name ending in .sh. */
const scriptFor = (log: string, suffix = ''): string => `${log.replace(/\.log$/, '')}${suffix}.sh`;

export function slurmDriver(o: SlurmDriverOptions = {}): JobDriver {
  // The user's options first: what the launcher depends on (its log, its dependencies) comes after and wins.
  const common = (): string[] => [
    ...(o.slurmOptions ?? []),
    ...(o.gpusPerJob ? [`--gpus=${o.gpusPerJob}`] : []),
    // A job whose dependency failed waits (DependencyNeverSatisfied) until the follower redirects it.
    '--kill-on-invalid-dep=no',
    // The follower resubmits a job that died, under a new id, from its checkpoint; Slurm must not rerun it too.
    '--no-requeue',
  ];
  const writeScript = async (file: string, text: string): Promise<string> => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, text, { mode: 0o755 });
    return file;
  };

  return {
    launcher: 'slurm',

    async submit(s) {
      const script = await writeScript(scriptFor(s.log), jobScript(s));
      return sbatch([
        ...common(),
        `--job-name=${slurmJobName(s)}`,
        `--output=${s.log}`,
        `--chdir=${path.dirname(s.log)}`,
        ...(s.after.length > 0 ? [`--dependency=${afterOk(s.after)}`] : []),
      ], script);
    },

    async submitBatch(subs) {
      if (subs.length === 0) return [];
      if (subs.some((s) => s.after.length > 0)) throw new Error('submitBatch takes jobs that wait for nothing (submit the others one by one)');
      const script = await writeScript(scriptFor(subs[0]!.log, '.array'), arrayScript(subs));
      const id = await sbatch([
        ...common(),
        `--job-name=${slurmJobName(subs[0]!, subs[0]!.job.group)}`,
        `--array=0-${subs.length - 1}`,
        // Each task writes its own log (the script redirects); Slurm's file would be one for all.
        '--output=/dev/null',
        `--chdir=${path.dirname(subs[0]!.log)}`,
      ], script);
      return subs.map((_, i) => `${id}_${i}`);
    },

    async poll(ids) {
      const reports: Map<string, JobReport> = await squeue(ids);
      for (const id of ids) {
        if (reports.has(id)) continue;
        const report = await scontrolShowJob(id);
        if (report) reports.set(id, report);
      }
      return reports;
    },

    redirect: (id, after) => setDependency(id, after),

    cancel: (ids) => scancel(ids),
  };
}
