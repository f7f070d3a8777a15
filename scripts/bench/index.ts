// `npm run bench`: gowide's performance side by side with PyTorch CPU, in one run (issue 6).
//
//   npm run bench [-- --json] [--seconds 3] [--cpu-seconds 2] [--threads 2] [--models a,b]
//                 [--skip-torch] [--skip-sidecar] [--skip-monitor]
//
// 1. Training samples/s (batch 128, Adam 1e-3, softmax cross-entropy, random data) of the reference
//    models (scripts/bench/models.ts), thin and 4x wide, on every CPU backend that loads:
//      wasm+native  TF.js wasm + gowide's gradient kernels + the native OpenBLAS kernels
//      wasm         the same without the native kernels
//      cpu          pure JS, only the smallest models, short cap
//    and in PyTorch CPU (/usr/bin/python3 scripts/bench/torch_bench.py: same shapes, batch, optimizer,
//    torch.set_num_threads(--threads)); ratio = TF.js samples/s / PyTorch samples/s.
// 2. Sidecar start to first answer, peak RSS and stage times of a quick-start-like run, TF.js tensor
//    count across epochs, and the cost of streaming metrics to a connected client.
// 3. The imitation monitor webview in headless Chromium fed 16 blocks x 100k imitation records in
//    messages of 5,000: time from each message to the frame that shows it, and a restore.
// Each measurement runs --seconds after a warm-up. Prints tables; with --json, one JSON object as the
// last stdout line: {machine, models: [{name, backend, samplesPerSec, torchSamplesPerSec, ratio}], ...}.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { prepareWasmBackend } from '../../server/engine/wasm';
import { loadBlasAddon, registerNativeBlasKernels, unregisterNativeBlasKernels } from '../../server/engine/native/blas-kernels';
import { BATCH, benchModels, type BenchModel } from './models';
import { measureThroughput } from './throughput';
import { tensorCountAcrossEpochs, type TensorTrace } from './tensors';
import { monitorFrames, type MonitorFrames } from './monitor-frames';
import { builtCliExists, quickStartRun, repoRoot, sidecarStartup, streamingCost, type QuickRun, type StartupTimes, type StreamingCost } from './sidecar';

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}
const json = process.argv.includes('--json');
const seconds = Number(option('seconds') ?? 3);
const cpuSeconds = Number(option('cpu-seconds') ?? 2);
const threads = Number(option('threads') ?? 2);
const onlyModels = option('models')?.split(',');
const skipTorch = process.argv.includes('--skip-torch');
const skipSidecar = process.argv.includes('--skip-sidecar');
const skipMonitor = process.argv.includes('--skip-monitor');
const PYTHON = '/usr/bin/python3';

const say = (line: string) => console.log(line);

interface ModelRow {
  name: string;
  backend: string;
  samplesPerSec: number | null;
  torchSamplesPerSec: number | null;
  ratio: number | null;
  steps?: number;
  tensorGrowth?: number;
  error?: string;
}

interface TorchOutcome {
  available: boolean;
  reason?: string;
  version?: string;
  blas?: string;
  bySpec: Map<string, number>;
  errors: Map<string, string>;
}

function blasAlternative(): string {
  try {
    return realpathSync('/usr/lib/x86_64-linux-gnu/libblas.so.3');
  } catch {
    return 'unknown';
  }
}

function machine() {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) cpuModel = match[1].trim();
  } catch {
    // keep os.cpus()
  }
  const flags = (() => {
    try {
      return /avx512f/.test(readFileSync('/proc/cpuinfo', 'utf8')) ? 'AVX-512' : 'no AVX-512';
    } catch {
      return 'unknown';
    }
  })();
  return { nproc: cpus().length, cpuModel, flags, node: process.versions.node, tfjs: tf.version.tfjs };
}

function runTorch(models: BenchModel[]): TorchOutcome {
  const outcome: TorchOutcome = { available: false, bySpec: new Map(), errors: new Map() };
  const dir = mkdtempSync(join(tmpdir(), 'gowide-bench-torch-'));
  try {
    const specsFile = join(dir, 'specs.json');
    writeFileSync(specsFile, JSON.stringify(models.map((m) => ({ name: m.name, torch: m.torch }))));
    const script = join(repoRoot, 'scripts', 'bench', 'torch_bench.py');
    const result = spawnSync(PYTHON, [script, specsFile, String(seconds), String(threads)], {
      encoding: 'utf8',
      timeout: (models.length * (seconds + 10) + 60) * 1000,
      // Debian's torch calls libblas.so.3 (OpenBLAS with its own pthreads) from inside its OpenMP
      // pool: with both at 2 threads on 2 cores they fight, and the MLP drops from ~24,000 to
      // ~6,000-9,000 samples/s. One OpenBLAS thread per torch thread is PyTorch at its best here.
      env: { OPENBLAS_NUM_THREADS: '1', ...process.env, OMP_NUM_THREADS: String(threads) },
    });
    if (result.error) {
      outcome.reason = `PyTorch not installed: cannot run ${PYTHON} (${result.error.message})`;
      return outcome;
    }
    for (const line of (result.stdout ?? '').split('\n')) {
      if (!line.trim().startsWith('{')) continue;
      const record = JSON.parse(line);
      if (record.done) {
        outcome.available = true;
        outcome.version = record.torch;
        outcome.blas = record.blas;
      } else if (record.name && typeof record.samplesPerSec === 'number') {
        outcome.bySpec.set(record.name, record.samplesPerSec);
      } else if (record.name && record.error) {
        outcome.errors.set(record.name, record.error);
      } else if (record.error) {
        outcome.reason = record.error;
      }
    }
    if (!outcome.available && !outcome.reason) {
      outcome.reason = `PyTorch bench failed (exit ${result.status}): ${(result.stderr ?? '').trim().split('\n').slice(-2).join(' | ')}`;
    }
    if (outcome.bySpec.size > 0) outcome.available = true;
    return outcome;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The 1-minute load average (/proc/loadavg), or null where there is none. */
function loadAverage(): number | null {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

/**
 * Other work on the machine: PyTorch's 2 OpenMP threads wait at every barrier for a thread that
 * another job holds off the CPU, and collapse (measured here: the MLP from 23,155 to 255-2,074
 * samples/s at a load average of 2.5-6, while TF.js slowed down 1.5-2x), so the ratios then favour
 * TF.js wrongly. Warned about above a load of 0.5 per core before the bench's own work.
 */
function loadWarning(load: number | null, cores: number): string | null {
  if (load == null || load <= 0.5 * cores) return null;
  return (
    `WARNING: load average ${load.toFixed(2)} on ${cores} cores before the bench: other jobs are running. PyTorch's ` +
    `OpenMP threads can slow down far more than TF.js under load, so the ratios may overstate TF.js; compare on a quiet ` +
    `machine, or with --threads 1`
  );
}

interface Backend {
  name: string;
  /** Why it is not measured, or null when it loaded. */
  setup(): Promise<string | null>;
  appliesTo(model: BenchModel): boolean;
  seconds: number;
  warmup: number;
}

async function main(): Promise<void> {
  const started = performance.now();
  const box = machine();
  const loadAtStart = loadAverage();
  const models = benchModels().filter((m) => !onlyModels || onlyModels.some((name) => m.name.startsWith(name)));
  say(`gowide bench: ${box.nproc} cores, ${box.cpuModel} (${box.flags}), Node ${box.node}, TF.js ${box.tfjs}`);
  say(`batch ${BATCH}, Adam 1e-3, ${seconds} s per model and backend after a warm-up (cpu: ${cpuSeconds} s, smallest models only)`);
  const warning = loadWarning(loadAtStart, box.nproc);
  say(warning ?? `load average ${loadAtStart ?? 'unknown'} before the bench`);

  // --- PyTorch first, alone on the machine (never alongside TF.js: 2 cores).
  let torch: TorchOutcome = { available: false, reason: 'skipped (--skip-torch)', bySpec: new Map(), errors: new Map() };
  if (!skipTorch) {
    say(`PyTorch: ${PYTHON} scripts/bench/torch_bench.py, ${threads} threads ...`);
    torch = runTorch(models);
  }
  if (torch.available) say(
      `PyTorch ${torch.version} (BLAS_INFO=${torch.blas}, libblas.so.3 -> ${blasAlternative()}), torch.set_num_threads(${threads}), ` +
        `OPENBLAS_NUM_THREADS=${process.env.OPENBLAS_NUM_THREADS ?? '1'}`,
    );
  else say(torch.reason ?? 'PyTorch not installed');
  for (const [name, error] of torch.errors) say(`  PyTorch ${name}: ${error}`);

  // --- TF.js backends.
  let wasmReason: string | null = null;
  try {
    prepareWasmBackend();
    if (!(await tf.setBackend('wasm'))) wasmReason = 'tf.setBackend("wasm") failed';
    await tf.ready();
  } catch (error) {
    wasmReason = `wasm backend did not load: ${(error as Error).message}`;
  }
  const addon = loadBlasAddon();
  const blasThreads = addon.ok ? addon.addon.getThreads() : 0;
  const useWasm = async (native: boolean): Promise<string | null> => {
    if (wasmReason) return wasmReason;
    if (!(await tf.setBackend('wasm'))) return 'tf.setBackend("wasm") failed';
    if (native) {
      const registration = registerNativeBlasKernels();
      return registration.ok ? null : `native kernels not loaded: ${registration.reason}`;
    }
    unregisterNativeBlasKernels();
    return null;
  };
  const backends: Backend[] = [
    { name: 'wasm+native', setup: () => useWasm(true), appliesTo: () => true, seconds, warmup: 2 },
    { name: 'wasm', setup: () => useWasm(false), appliesTo: () => true, seconds, warmup: 2 },
    {
      name: 'cpu',
      setup: async () => ((await tf.setBackend('cpu')) ? null : 'tf.setBackend("cpu") failed'),
      appliesTo: (m) => m.smallest,
      seconds: cpuSeconds,
      warmup: 1,
    },
  ];
  say(`native OpenBLAS addon: ${addon.ok ? `${addon.path} (${blasThreads} threads)` : addon.reason}`);

  const rows: ModelRow[] = [];
  const skipped: string[] = [];
  for (const backend of backends) {
    const reason = await backend.setup();
    if (reason) {
      skipped.push(`${backend.name}: ${reason}`);
      say(`${backend.name}: not measured (${reason})`);
      continue;
    }
    for (const model of models.filter((m) => backend.appliesTo(m))) {
      const torchRate = torch.bySpec.get(model.name) ?? null;
      // TF.js prints an "install our node backend" banner on the cpu backend's first use: noise here.
      const warn = console.warn;
      if (backend.name === 'cpu') console.warn = () => undefined;
      try {
        const r = await measureThroughput(model, backend.seconds, backend.warmup, backend.name === 'cpu' ? 1 : 2);
        rows.push({
          name: model.name,
          backend: backend.name,
          samplesPerSec: r.samplesPerSec,
          torchSamplesPerSec: torchRate,
          ratio: torchRate ? r.samplesPerSec / torchRate : null,
          steps: r.steps,
          tensorGrowth: r.tensorGrowth,
        });
        if (!json) say(`  ${backend.name.padEnd(12)} ${model.name.padEnd(26)} ${r.samplesPerSec.toFixed(0).padStart(8)} samples/s (${r.steps} steps)`);
      } catch (error) {
        const message = (error as Error).message.split('\n')[0];
        rows.push({ name: model.name, backend: backend.name, samplesPerSec: null, torchSamplesPerSec: torchRate, ratio: null, error: message });
        say(`  ${backend.name.padEnd(12)} ${model.name.padEnd(26)} failed: ${message}`);
      } finally {
        console.warn = warn;
      }
    }
  }
  // Put the default configuration back.
  if (!wasmReason) await useWasm(true);

  // --- Table.
  const fmt = (x: number | null | undefined, digits = 0) => (x == null ? '-' : x.toFixed(digits));
  const backendNames = backends.map((b) => b.name);
  say('');
  say('Training samples/s (batch 128, Adam); in brackets: ratio to PyTorch CPU');
  const header = ['model'.padEnd(26), 'PyTorch'.padStart(10), ...backendNames.map((n) => n.padStart(20))].join('');
  say(header);
  for (const model of models) {
    const cells = backendNames.map((b) => {
      const row = rows.find((r) => r.name === model.name && r.backend === b);
      if (!row) return ''.padStart(20);
      if (row.samplesPerSec == null) return 'failed'.padStart(20);
      return `${fmt(row.samplesPerSec)} (${row.ratio == null ? '-' : row.ratio.toFixed(2) + 'x'})`.padStart(20);
    });
    say([model.name.padEnd(26), fmt(torch.bySpec.get(model.name)).padStart(10), ...cells].join(''));
  }
  const grew = rows.filter((r) => (r.tensorGrowth ?? 0) > 0);
  if (grew.length > 0) say(`tensor count grew during timed steps: ${grew.map((r) => `${r.name}/${r.backend} +${r.tensorGrowth}`).join(', ')}`);

  // --- Tensor count across epochs (default backend).
  const traces: TensorTrace[] = [];
  if (!wasmReason) {
    // Slow models (about a second per step here) get short epochs: the count is what matters.
    const tracePlan: Array<[string, number, number]> = [
      ['mlp 784-7x256-10', 4, 10],
      ['cnn 2conv 16ch', 4, 10],
      ['resnet 6x16', 3, 3],
      ['transformer 4x32 seq32', 3, 2],
    ];
    for (const [name, epochs, steps] of tracePlan) {
      const model = benchModels().find((m) => m.name === name)!;
      traces.push(tensorCountAcrossEpochs(model, epochs, steps));
    }
    say('');
    say('TF.js tensor count after each epoch (wasm+native; epochs x steps per epoch + a forward pass each):');
    for (const t of traces) say(`  ${t.name.padEnd(26)} ${t.epochs}x${t.stepsPerEpoch}: ${t.perEpoch.join(' ')}  ${t.grows ? 'GROWS' : 'flat'} (${t.seconds.toFixed(1)} s)`);
  }

  // --- Sidecar, quick-start run, streaming.
  let startup: StartupTimes | { error: string } | null = null;
  let quick: QuickRun | null = null;
  let streaming: StreamingCost | { error: string } | null = null;
  if (skipSidecar) {
    say('sidecar measurements skipped (--skip-sidecar)');
  } else if (!builtCliExists()) {
    say('sidecar measurements skipped: dist/cli.js is missing (run "npm run build")');
  } else {
    say('');
    try {
      startup = await sidecarStartup();
      say(`sidecar start: initialize answered after ${startup.initializeMs.toFixed(0)} ms, first engineInfo after ${startup.engineInfoMs.toFixed(0)} ms (backend ${startup.backend})`);
    } catch (error) {
      startup = { error: (error as Error).message };
      say(`sidecar start failed: ${startup.error}`);
    }
    quick = await quickStartRun();
    const stages = Object.entries(quick.stageSeconds)
      .map(([stage, s]) => `${stage} ${s.toFixed(1)} s`)
      .join(', ');
    say(
      quick.ok
        ? `quick-start-like run (gowide run, 1 seed, 4000 examples): ${quick.wallSeconds.toFixed(1)} s wall, peak RSS ${quick.peakRssMiB.toFixed(0)} MiB; stages: ${stages}`
        : `quick-start-like run failed: ${quick.error} (peak RSS ${quick.peakRssMiB.toFixed(0)} MiB)`,
    );
    try {
      streaming = await streamingCost(5);
      say(
        `streaming metrics: "wide" stage of a tiny experiment over the sidecar, with a metrics listener ` +
          `${streaming.withClientSeconds.map((s) => s.toFixed(2)).join('/')} s vs without ${streaming.withoutClientSeconds.map((s) => s.toFixed(2)).join('/')} s ` +
          `(${streaming.notifications} notifications, ${streaming.metricRecords} records): ${streaming.overheadPercent >= 0 ? '+' : ''}${streaming.overheadPercent.toFixed(1)}%`,
      );
    } catch (error) {
      streaming = { error: (error as Error).message };
      say(`streaming cost not measured: ${streaming.error}`);
    }
  }
  const monitor = skipMonitor ? null : await measureMonitor();
  const totalSeconds = (performance.now() - started) / 1000;
  say('');
  say(`bench took ${totalSeconds.toFixed(0)} s`);
  if (json) {
    console.log(
      JSON.stringify({
        machine: { ...box, blasThreads, torchThreads: threads, loadAverage: { start: loadAtStart, end: loadAverage() } },
        batch: BATCH,
        seconds,
        torch: torch.available ? { version: torch.version, blas: torch.blas, libblas: blasAlternative() } : { error: torch.reason },
        models: rows.map((r) => ({
          name: r.name,
          backend: r.backend,
          samplesPerSec: r.samplesPerSec == null ? null : Math.round(r.samplesPerSec),
          torchSamplesPerSec: r.torchSamplesPerSec == null ? null : Math.round(r.torchSamplesPerSec),
          ratio: r.ratio == null ? null : Number(r.ratio.toFixed(3)),
          ...(r.error ? { error: r.error } : {}),
        })),
        skippedBackends: skipped,
        tensorCounts: traces,
        sidecarStartup: startup,
        quickStart: quick,
        streaming,
        monitor,
        totalSeconds: Math.round(totalSeconds),
      }),
    );
  }
}

async function measureMonitor(): Promise<MonitorFrames | { skipped: string } | { error: string }> {
  say('');
  try {
    const m = await monitorFrames();
    if ('skipped' in m) say(`imitation monitor not measured: ${m.skipped}`);
    else {
      say(
        `imitation monitor (headless Chromium, ${m.blocks} blocks x ${m.pointsPerBlock.toLocaleString('en-US')} points, ${m.messages} messages of ${m.recordsPerMessage.toLocaleString('en-US')}): ` +
          `message to drawn frame median ${m.medianFrameMs.toFixed(1)} ms, p95 ${m.p95FrameMs.toFixed(1)} ms, max ${m.maxFrameMs.toFixed(1)} ms (waiting for two animation frames, 17-33 ms, is the floor); restore ${m.restoreMs.toFixed(0)} ms`,
      );
    }
    return m;
  } catch (error) {
    say(`imitation monitor not measured: ${(error as Error).message}`);
    return { error: (error as Error).message };
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
