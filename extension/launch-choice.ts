// Where Run All Stages runs a run's jobs: the launcher settings read and checked, the launch they
// make, and the choice offered on a machine with Slurm (sbatch on PATH, e.g. a cluster's login node
// under Remote-SSH) when gowide.launcher is not set. Pure apart from the PATH lookup, so unit-tested.
import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';
import { LAUNCH_DEFAULTS, LAUNCHER_NAMES, type LauncherName, type LaunchOptions } from '../server/protocol';
import type { PickRow } from './ui';

export interface LaunchSettings {
  /** gowide.launcher where the user set it (any scope); absent: not set, so Run All Stages may ask. */
  launcher?: LauncherName;
  /** gowide.localJobs: jobs the local launcher runs at once (1: one process, as without a launcher). */
  localJobs: number;
  /** gowide.slurm.options: extra sbatch arguments, one word each. */
  slurmOptions: string[];
  /** gowide.slurm.gpusPerJob (0: none asked for). */
  gpusPerJob: number;
  /** gowide.slurm.maxRetries. */
  maxRetries: number;
}

/** The raw values of the settings: `launcher` only where the user set it explicitly. */
export interface LaunchSettingValues {
  launcher?: unknown;
  localJobs?: unknown;
  slurmOptions?: unknown;
  gpusPerJob?: unknown;
  maxRetries?: unknown;
}

const wholeNumberFrom = (value: unknown, least: number): value is number => Number.isInteger(value) && (value as number) >= least;

/** Checks the settings; a bad value is named with what to write instead. */
export function readLaunchSettings(values: LaunchSettingValues): { settings: LaunchSettings } | { problem: string } {
  const { launcher, localJobs = LAUNCH_DEFAULTS.jobs, slurmOptions = [], gpusPerJob = 0, maxRetries = LAUNCH_DEFAULTS.maxRetries } = values;
  if (launcher !== undefined && !(LAUNCHER_NAMES as readonly unknown[]).includes(launcher)) {
    return { problem: `gowide.launcher is ${JSON.stringify(launcher)}; set it to ${LAUNCHER_NAMES.map((n) => `"${n}"`).join(' or ')}, or remove it to be asked.` };
  }
  if (!wholeNumberFrom(localJobs, 1)) return { problem: `gowide.localJobs is ${JSON.stringify(localJobs)}; set it to a whole number of 1 or more.` };
  if (!Array.isArray(slurmOptions) || !slurmOptions.every((o) => typeof o === 'string')) {
    return { problem: `gowide.slurm.options is ${JSON.stringify(slurmOptions)}; set it to a list of sbatch arguments, one word each, e.g. ["--partition=gpu"].` };
  }
  if (!wholeNumberFrom(gpusPerJob, 0)) return { problem: `gowide.slurm.gpusPerJob is ${JSON.stringify(gpusPerJob)}; set it to a whole number of 0 or more.` };
  if (!wholeNumberFrom(maxRetries, 0)) return { problem: `gowide.slurm.maxRetries is ${JSON.stringify(maxRetries)}; set it to a whole number of 0 or more.` };
  return { settings: { launcher: launcher as LauncherName | undefined, localJobs, slurmOptions, gpusPerJob, maxRetries } };
}

/** The launch of a run on `launcher`; undefined: one process on this machine, as without a launcher. */
export function launchFor(launcher: LauncherName, settings: LaunchSettings, localJobs = settings.localJobs): LaunchOptions | undefined {
  if (launcher === 'local') return localJobs > 1 ? { launcher, jobs: localJobs } : undefined;
  return {
    launcher,
    ...(settings.slurmOptions.length > 0 ? { slurmOptions: settings.slurmOptions } : {}),
    ...(settings.gpusPerJob > 0 ? { gpusPerJob: settings.gpusPerJob } : {}),
    maxRetries: settings.maxRetries,
  };
}

/** A row of the choice: the launcher, the local jobs at once, and whether to write gowide.launcher. */
export interface LaunchPick {
  launcher: LauncherName;
  localJobs?: number;
  always?: boolean;
}

export const SLURM_ROW = 'Slurm cluster (sbatch)';

/** The rows of Run All Stages' question; `cores` sizes "N jobs at once" unless gowide.localJobs does. */
export function launchRows(settings: LaunchSettings, cores: number): PickRow<LaunchPick>[] {
  const atOnce = settings.localJobs > 1 ? settings.localJobs : cores;
  const slurmDetail = [
    settings.slurmOptions.length > 0 ? settings.slurmOptions.join(' ') : undefined,
    settings.gpusPerJob > 0 ? `${settings.gpusPerJob} GPU${settings.gpusPerJob === 1 ? '' : 's'} per job` : undefined,
  ].filter(Boolean).join(' · ');
  return [
    { label: 'This machine', description: 'one process, stage after stage', value: { launcher: 'local', localJobs: 1 } },
    ...(atOnce > 1 ? [{ label: `This machine, ${atOnce} jobs at once`, description: 'independent jobs in separate processes', value: { launcher: 'local' as const, localJobs: atOnce } }] : []),
    { label: SLURM_ROW, description: 'each job submitted with sbatch', detail: slurmDetail || undefined, value: { launcher: 'slurm' } },
    { label: 'Remember', separator: true },
    { label: 'Always this machine', description: 'sets gowide.launcher to "local"', value: { launcher: 'local', always: true } },
    { label: `Always ${SLURM_ROW}`, description: 'sets gowide.launcher to "slurm"', value: { launcher: 'slurm', always: true } },
  ];
}

/** Whether `name` is an executable file in a folder of `searchPath` (a PATH value). */
export function onPath(name: string, searchPath = process.env.PATH ?? ''): boolean {
  return searchPath.split(path.delimiter).filter(Boolean).some((folder) => {
    try {
      accessSync(path.join(folder, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
