// What every bench run records about where and when it ran, and where its JSON is kept: each run
// writes one file into docs/bench/ (a dated name), from which `npm run bench:tables` generates the
// tables in README.md and docs/BENCH.md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { openBlasCore } from '../../server/engine/native/blas-kernels';
import { repoRoot } from './sidecar';

export const BENCH_RECORDS_DIR = join(repoRoot, 'docs', 'bench');

/** Where a run ran. blasCore: the kernels OpenBLAS chose for the CPU (absent without the native addon,
 *  and from records before session 14). */
export interface Machine {
  nproc: number;
  cpuModel: string;
  flags: string;
  blasCore?: string;
  host: string;
  node: string;
  tfjs: string;
}

export function machine(): Machine {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    const match = /^model name\s*:\s*(.*)$/m.exec(cpuinfo);
    if (match) cpuModel = match[1].trim();
  } catch {
    // keep os.cpus()
  }
  const flags = cpuinfo ? (/avx512f/.test(cpuinfo) ? 'AVX-512' : 'no AVX-512') : 'unknown';
  return { nproc: cpus().length, cpuModel, flags, blasCore: openBlasCore(), host: hostname(), node: process.versions.node, tfjs: tf.version.tfjs };
}

/** The 1-minute load average (/proc/loadavg), or null where there is none. */
export function loadAverage(): number | null {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

/** The checked-out commit and whether the tree had changes, or null outside a git checkout. */
export function gitCommit(): { commit: string; dirty: boolean } | null {
  try {
    const run = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { commit: run('rev-parse', '--short', 'HEAD'), dirty: run('status', '--porcelain', '--untracked-files=no') !== '' };
  } catch {
    return null;
  }
}

/** docs/bench/2026-12-06T10-42-cpu.json (UTC), or `out` when given. */
export function recordPath(kind: string, date: Date, out?: string): string {
  if (out) return out;
  const stamp = date.toISOString().slice(0, 16).replace(':', '-');
  return join(BENCH_RECORDS_DIR, `${stamp}-${kind}.json`);
}

export function saveRecord(path: string, record: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(record, null, 1)}\n`);
}
