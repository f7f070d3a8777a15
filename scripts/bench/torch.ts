// The PyTorch side of the bench: runs scripts/bench/torch_bench.py (/usr/bin/python3) on the reference
// models and keeps, per model, the fastest of the configurations it tried (CPU: torch threads +
// OpenBLAS threads; CUDA: the one device).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchModel } from './models';
import { repoRoot } from './sidecar';

/** Debian's python3 with python3-torch here; GOWIDE_BENCH_PYTHON names another (the GPU machine's venv). */
export const PYTHON = process.env.GOWIDE_BENCH_PYTHON || '/usr/bin/python3';

export interface TorchRun {
  /** Samples/s under the configuration that was fastest for this model. */
  samplesPerSec: number;
  config: string;
  /** Samples/s under every configuration tried. */
  byConfig: Record<string, number>;
}

export interface TorchOutcome {
  available: boolean;
  reason?: string;
  version?: string;
  device?: string;
  blas?: string;
  /** Configurations tried, e.g. ["1+2", "2+1"] or ["cuda"]. */
  configs: string[];
  byModel: Map<string, TorchRun>;
  errors: Map<string, string>;
  /** Square float32 product's GFLOP/s under each configuration, and its size. */
  matmul?: { size: number; byConfig: Record<string, number>; best: number; config: string };
}

export interface TorchOptions {
  seconds: number;
  batch: number;
  device: 'cpu' | 'cuda';
  /** CPU only: torch intra-op threads + OpenBLAS threads, e.g. "1+2". */
  configs: string[];
  matmulSize: number;
}

/**
 * The ways to spend `threads` cores on Debian's PyTorch, which calls OpenBLAS (with its own threads)
 * from inside its OpenMP pool: every split T+B with T x B = threads (more oversubscribes: 2+2 on 2
 * cores took the MLP from ~24,000 to 6,000-9,000 samples/s), plus 1+1, which wins when other jobs
 * hold cores. Measured here: the thin MLP prefers 1+2 (23,608 against 18,890 at 2+1), the 2-conv
 * CNN 2+1.
 */
export function torchThreadConfigs(threads: number): string[] {
  const configs: string[] = [];
  for (let t = threads; t >= 1; t--) if (threads % t === 0) configs.push(`${t}+${threads / t}`);
  if (threads > 1) configs.push('1+1');
  return configs;
}

export function blasAlternative(): string {
  try {
    return realpathSync('/usr/lib/x86_64-linux-gnu/libblas.so.3');
  } catch {
    return 'unknown';
  }
}

/** The best entry of a record of rates: [key, value]. */
export function bestOf(byConfig: Record<string, number>): [string, number] {
  return Object.entries(byConfig).reduce((best, entry) => (entry[1] > best[1] ? entry : best));
}

export function runTorch(models: BenchModel[], options: TorchOptions): TorchOutcome {
  const configs = options.device === 'cpu' ? options.configs : [options.device];
  const outcome: TorchOutcome = { available: false, configs, byModel: new Map(), errors: new Map() };
  const dir = mkdtempSync(join(tmpdir(), 'gowide-bench-torch-'));
  try {
    const specsFile = join(dir, 'specs.json');
    writeFileSync(specsFile, JSON.stringify(models.map((m) => ({ name: m.name, torch: m.torch }))));
    const script = join(repoRoot, 'scripts', 'bench', 'torch_bench.py');
    const args = [script, specsFile, '--seconds', String(options.seconds), '--batch', String(options.batch), '--device', options.device, '--matmul', String(options.matmulSize)];
    if (options.device === 'cpu') args.push('--configs', configs.join(','));
    const maxTorchThreads = Math.max(...configs.map((c) => Number(c.split('+')[0]) || 1));
    const result = spawnSync(PYTHON, args, {
      encoding: 'utf8',
      // Generous: under load a configuration can collapse to seconds per step (2+1 at a load of 20).
      timeout: (models.length * configs.length * (options.seconds + 30) + 120) * 1000,
      // OpenMP sizes its pool from OMP_NUM_THREADS at start; torch.set_num_threads then picks T.
      // OpenBLAS starts at 1 thread and is set per configuration at run time.
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: String(maxTorchThreads) },
    });
    const failure = result.error as NodeJS.ErrnoException | undefined;
    if (failure?.code === 'ENOENT') {
      outcome.reason = `PyTorch not installed: cannot run ${PYTHON} (${failure.message})`;
      return outcome;
    }
    // Stopped (timeout): what it measured before still counts.
    if (failure) outcome.reason = `PyTorch bench stopped: ${failure.message}`;
    const rates = new Map<string, Record<string, number>>();
    const matmul: Record<string, number> = {};
    let matmulSize = options.matmulSize;
    for (const line of (result.stdout ?? '').split('\n')) {
      if (!line.trim().startsWith('{')) continue;
      const record = JSON.parse(line);
      if (record.done) {
        outcome.available = true;
        outcome.version = record.torch;
        outcome.device = record.device;
        outcome.blas = record.blas;
      } else if (record.matmul) {
        matmul[record.config] = record.gflops;
        matmulSize = record.matmul;
      } else if (record.name && typeof record.samplesPerSec === 'number') {
        rates.set(record.name, { ...rates.get(record.name), [record.config]: record.samplesPerSec });
      } else if (record.name && record.error) {
        outcome.errors.set(`${record.name} (${record.config})`, record.error);
      } else if (record.error) {
        outcome.reason = record.error;
      }
    }
    for (const [name, byConfig] of rates) {
      const [config, samplesPerSec] = bestOf(byConfig);
      outcome.byModel.set(name, { samplesPerSec, config, byConfig });
    }
    if (Object.keys(matmul).length > 0) {
      const [config, best] = bestOf(matmul);
      outcome.matmul = { size: matmulSize, byConfig: matmul, best, config };
    }
    if (!outcome.available && !outcome.reason) {
      outcome.reason = `PyTorch bench failed (exit ${result.status}): ${(result.stderr ?? '').trim().split('\n').slice(-2).join(' | ')}`;
    }
    if (outcome.byModel.size > 0) outcome.available = true;
    return outcome;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
