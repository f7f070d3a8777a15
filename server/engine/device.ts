// Human-readable descriptions of the hardware a backend runs on.
import * as os from 'node:os';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** "AMD EPYC x2": the CPU model and the number of logical cores. */
export function cpuSummary(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim().replace(/\s+/g, ' ') || os.arch();
  return `${model} x${cpus.length}`;
}

/** Names of NVIDIA GPUs as the kernel driver reports them, or [] when there is no NVIDIA driver. */
export function nvidiaGpuNames(): string[] {
  const root = '/proc/driver/nvidia/gpus';
  try {
    return readdirSync(root).flatMap((bus) => {
      const text = readFileSync(join(root, bus, 'information'), 'utf8');
      const model = /^Model:\s*(.+)$/m.exec(text)?.[1]?.trim();
      return model ? [model] : [];
    });
  } catch {
    return [];
  }
}

/** The NVIDIA kernel driver version line, when the driver is loaded. */
export function nvidiaDriverVersion(): string | undefined {
  try {
    const text = readFileSync('/proc/driver/nvidia/version', 'utf8');
    return /Kernel Module\s+(?:for \S+\s+)?([\d.]+)/.exec(text)?.[1];
  } catch {
    return undefined;
  }
}
