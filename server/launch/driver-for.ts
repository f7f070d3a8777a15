// The launcher a run's launch options name, and the CLI script its jobs run.
import * as path from 'node:path';
import { packageRoot } from '../package-root';
import { LAUNCH_DEFAULTS, type LaunchOptions } from '../protocol';
import type { JobDriver } from './driver';
import { LocalDriver } from './local-driver';
import { slurmDriver } from './slurm/slurm-driver';

export function driverFor(launch: LaunchOptions): JobDriver {
  switch (launch.launcher) {
    case 'local':
      return new LocalDriver({ slots: launch.jobs ?? LAUNCH_DEFAULTS.jobs });
    case 'slurm':
      return slurmDriver(launch);
  }
}

/** The bundled CLI (dist/cli.js) that every job runs, on this machine or a cluster node sharing its files. */
export const cliScript = (): string => path.join(packageRoot(), 'dist', 'cli.js');
