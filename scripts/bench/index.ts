// `npm run bench`: gowide's performance side by side with PyTorch CPU, in one run (issue 6).
//
//   npm run bench [-- --json] [--seconds 3] [--cpu-seconds 2] [--threads 2] [--models a,b]
//                 [--torch-configs 1+2,2+1] [--label TEXT] [--out FILE] [--no-save]
//                 [--skip-torch] [--skip-sidecar] [--skip-monitor] [--backend webgpu]
//
// 1. Training samples/s (batch 128, Adam 1e-3, softmax cross-entropy, random data) of the reference
//    models (scripts/bench/models.ts), thin and 4x wide, on every CPU backend that loads:
//      wasm+native  TF.js wasm + gowide's gradient kernels + the native OpenBLAS kernels
//      wasm         the same without the native kernels
//      cpu          pure JS, only the smallest models, short cap
//    and in PyTorch CPU (/usr/bin/python3 scripts/bench/torch_bench.py: same shapes, batch, optimizer)
//    at its best: each model under every split of --threads between torch's threads and OpenBLAS's
//    (scripts/bench/torch.ts), the fastest kept; ratio = TF.js samples/s / PyTorch's best samples/s.
//    --threads is also the thread count of gowide's native pools (conv, products, BatchNorm). Each
//    model's achieved GFLOP/s (training FLOPs per example x samples/s) is printed beside the machine's
//    float32 product peak (the native addon's sgemm and PyTorch's matmul, 1024^3).
// 2. TF.js tensors and bytes (GPU bytes on webgpu) after each epoch of gowide's training loop
//    (scripts/bench/tensors.ts) on wasm+native, or on --backend (webgpu: a GPU, or SwiftShader named by
//    VK_ICD_FILENAMES); sidecar start to first answer, peak RSS and stage times of a quick-start-like
//    run, and the cost of streaming metrics to a connected client.
// 3. The imitation monitor webview in headless Chromium fed 16 blocks x 100k imitation records in
//    messages of 5,000: time from each message to the frame that shows it, and a restore.
// Each measurement runs --seconds after a warm-up. Prints tables and writes the run's JSON into
// docs/bench/ (scripts/bench/record.ts; --out FILE elsewhere, --no-save not at all; --label says what
// else ran on the machine); --json also prints it as the last stdout line:
// {machine, models: [{name, backend, samplesPerSec, gflops, torchSamplesPerSec, torchConfig, ratio}], ...}.
import { relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { prepareWasmBackend } from '../../server/engine/wasm';
import { loadBlasAddon, registerNativeBlasKernels, unregisterNativeBlasKernels } from '../../server/engine/native/blas-kernels';
import { BATCH, benchModels, trainingFlopsPerExample, type BenchModel } from './models';
import { measureThroughput } from './throughput';
import { blasAlternative, runTorch, torchThreadConfigs, type TorchOutcome } from './torch';
import { gitCommit, loadAverage, machine, recordPath, saveRecord } from './record';
import { nativeSgemmPeak } from './sgemm-peak';
import { memoryTraces, type TensorTrace } from './tensors';
import { monitorFrames, type MonitorFrames } from './monitor-frames';
import { builtCliExists, quickStartRun, repoRoot, sidecarStartup, streamingCost, type QuickRun, type StartupTimes, type StreamingCost } from './sidecar';
import { POOL_THREADS_VARIABLE } from '../../server/engine/native/pool-threads';

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
const torchConfigs = option('torch-configs')?.split(',') ?? torchThreadConfigs(threads);
const label = option('label');
const outFile = option('out');
const save = !process.argv.includes('--no-save');
const PEAK_SIZE = 1024;

const say = (line: string) => console.log(line);

interface ModelRow {
  name: string;
  backend: string;
  samplesPerSec: number | null;
  /** Achieved GFLOP/s: training FLOPs per example x samples/s. */
  gflops: number | null;
  torchSamplesPerSec: number | null;
  torchConfig: string | null;
  ratio: number | null;
  steps?: number;
  tensorGrowth?: number;
  error?: string;
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

/** gowide's native thread pool follows --threads unless GOWIDE_POOL_THREADS is set. */
function useGowideThreads(count: number): void {
  process.env[POOL_THREADS_VARIABLE] ??= String(count);
}

const gflopsOf = (samplesPerSec: number, macsPerExample: number) => (samplesPerSec * trainingFlopsPerExample(macsPerExample)) / 1e9;

async function main(): Promise<void> {
  const started = performance.now();
  const startedAt = new Date();
  const box = machine();
  const loadAtStart = loadAverage();
  const git = gitCommit();
  useGowideThreads(threads);
  const models = benchModels().filter((m) => !onlyModels || onlyModels.some((name) => m.name.startsWith(name)));
  say(`gowide bench: ${box.nproc} cores, ${box.cpuModel} (${box.flags}), Node ${box.node}, TF.js ${box.tfjs}`);
  say(`batch ${BATCH}, Adam 1e-3, ${seconds} s per model and backend after a warm-up (cpu: ${cpuSeconds} s, smallest models only)`);
  const warning = loadWarning(loadAtStart, box.nproc);
  say(warning ?? `load average ${loadAtStart ?? 'unknown'} before the bench`);

  // --- PyTorch first, alone on the machine (never alongside TF.js: 2 cores).
  let torch: TorchOutcome = { available: false, reason: 'skipped (--skip-torch)', configs: [], byModel: new Map(), errors: new Map() };
  if (!skipTorch) {
    say(`PyTorch: scripts/bench/torch_bench.py, each model under torch threads + OpenBLAS threads ${torchConfigs.join(', ')} ...`);
    torch = runTorch(models, { seconds, batch: BATCH, device: 'cpu', configs: torchConfigs, matmulSize: PEAK_SIZE });
  }
  const loadAfterTorch = loadAverage();
  if (torch.available) {
    say(`PyTorch ${torch.version} (BLAS_INFO=${torch.blas}, libblas.so.3 -> ${blasAlternative()}); fastest configuration per model:`);
    for (const [name, run] of torch.byModel) {
      const tried = Object.entries(run.byConfig).map(([config, rate]) => `${config} ${rate.toFixed(0)}`).join(', ');
      say(`  ${name.padEnd(26)} ${run.config} won (${tried} samples/s)`);
    }
  } else say(torch.reason ?? 'PyTorch not installed');
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
  const macsByModel = new Map<string, number>();
  const skipped: string[] = [];
  for (const backend of backends) {
    const reason = await backend.setup();
    if (reason) {
      skipped.push(`${backend.name}: ${reason}`);
      say(`${backend.name}: not measured (${reason})`);
      continue;
    }
    for (const model of models.filter((m) => backend.appliesTo(m))) {
      const torchRun = torch.byModel.get(model.name);
      const torchRate = torchRun?.samplesPerSec ?? null;
      // TF.js prints an "install our node backend" banner on the cpu backend's first use: noise here.
      const warn = console.warn;
      if (backend.name === 'cpu') console.warn = () => undefined;
      try {
        const r = await measureThroughput(model, backend.seconds, backend.warmup, backend.name === 'cpu' ? 1 : 2);
        macsByModel.set(model.name, r.macsPerExample);
        rows.push({
          name: model.name,
          backend: backend.name,
          samplesPerSec: r.samplesPerSec,
          gflops: gflopsOf(r.samplesPerSec, r.macsPerExample),
          torchSamplesPerSec: torchRate,
          torchConfig: torchRun?.config ?? null,
          ratio: torchRate ? r.samplesPerSec / torchRate : null,
          steps: r.steps,
          tensorGrowth: r.tensorGrowth,
        });
        if (!json) say(`  ${backend.name.padEnd(12)} ${model.name.padEnd(26)} ${r.samplesPerSec.toFixed(0).padStart(8)} samples/s (${r.steps} steps)`);
      } catch (error) {
        const message = (error as Error).message.split('\n')[0];
        rows.push({ name: model.name, backend: backend.name, samplesPerSec: null, gflops: null, torchSamplesPerSec: torchRate, torchConfig: torchRun?.config ?? null, ratio: null, error: message });
        say(`  ${backend.name.padEnd(12)} ${model.name.padEnd(26)} failed: ${message}`);
      } finally {
        console.warn = warn;
      }
    }
  }
  // Put the default configuration back.
  if (!wasmReason) await useWasm(true);
  const sgemmPeak = nativeSgemmPeak(PEAK_SIZE, threads);

  // --- Table.
  const fmt = (x: number | null | undefined, digits = 0) => (x == null ? '-' : x.toFixed(digits));
  const backendNames = backends.map((b) => b.name);
  say('');
  say(`Training samples/s (batch ${BATCH}, Adam); PyTorch CPU at its fastest threads configuration (torch + OpenBLAS); in brackets: ratio to it`);
  const header = ['model'.padEnd(26), 'PyTorch'.padStart(14), ...backendNames.map((n) => n.padStart(20))].join('');
  say(header);
  for (const model of models) {
    const cells = backendNames.map((b) => {
      const row = rows.find((r) => r.name === model.name && r.backend === b);
      if (!row) return ''.padStart(20);
      if (row.samplesPerSec == null) return 'failed'.padStart(20);
      return `${fmt(row.samplesPerSec)} (${row.ratio == null ? '-' : row.ratio.toFixed(2) + 'x'})`.padStart(20);
    });
    const torchRun = torch.byModel.get(model.name);
    say([model.name.padEnd(26), (torchRun ? `${fmt(torchRun.samplesPerSec)} (${torchRun.config})` : '-').padStart(14), ...cells].join(''));
  }
  say('');
  const peakText = 'error' in sgemmPeak ? `not measured (${sgemmPeak.error})` : `${sgemmPeak.gflops.toFixed(1)} GFLOP/s`;
  const torchPeakText = torch.matmul ? `${torch.matmul.best.toFixed(1)} GFLOP/s (${torch.matmul.config})` : 'not measured';
  say(`Achieved GFLOP/s (6 x forward multiply-adds per example x samples/s); float32 ${PEAK_SIZE}^3 product peak: native sgemm ${peakText} at ${threads} threads, PyTorch matmul ${torchPeakText}`);
  say(['model'.padEnd(26), 'MFLOP/example'.padStart(14), 'PyTorch'.padStart(10), ...backendNames.map((n) => n.padStart(14))].join(''));
  for (const model of models) {
    const macs = macsByModel.get(model.name);
    if (macs == null) continue;
    const torchRate = torch.byModel.get(model.name)?.samplesPerSec;
    const cells = backendNames.map((b) => fmt(rows.find((r) => r.name === model.name && r.backend === b)?.gflops, 2).padStart(14));
    say([model.name.padEnd(26), fmt(trainingFlopsPerExample(macs) / 1e6, 2).padStart(14), fmt(torchRate == null ? null : gflopsOf(torchRate, macs), 2).padStart(10), ...cells].join(''));
  }
  const grew = rows.filter((r) => (r.tensorGrowth ?? 0) > 0);
  if (grew.length > 0) say(`tensor count grew during timed steps: ${grew.map((r) => `${r.name}/${r.backend} +${r.tensorGrowth}`).join(', ')}`);

  // --- Tensor count and memory across epochs of gowide's training loop: wasm+native, or the backend
  // named by --backend (webgpu: with VK_ICD_FILENAMES naming SwiftShader's ICD on a machine without a GPU).
  const traces: TensorTrace[] = await memoryTraces(option('backend') ?? 'wasm', benchModels(), say);

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
  const round = (x: number, digits = 0) => Number(x.toFixed(digits));
  const record = {
    kind: 'cpu',
    date: startedAt.toISOString(),
    ...(label ? { label } : {}),
    git,
    machine: { ...box, blasThreads, threads, loadAverage: { start: loadAtStart, afterTorch: loadAfterTorch, end: loadAverage() } },
    batch: BATCH,
    seconds,
    peaks: {
      size: PEAK_SIZE,
      nativeSgemm: 'error' in sgemmPeak ? sgemmPeak : { threads, gflops: round(sgemmPeak.gflops, 1) },
      torchMatmul: torch.matmul ? { config: torch.matmul.config, gflops: round(torch.matmul.best, 1), byConfig: Object.fromEntries(Object.entries(torch.matmul.byConfig).map(([c, g]) => [c, round(g, 1)])) } : null,
    },
    torch: torch.available
      ? {
          version: torch.version,
          blas: torch.blas,
          libblas: blasAlternative(),
          configs: torch.configs,
          byModel: Object.fromEntries(
            [...torch.byModel].map(([name, run]) => [name, { config: run.config, byConfig: Object.fromEntries(Object.entries(run.byConfig).map(([c, rate]) => [c, Math.round(rate)])) }]),
          ),
        }
      : { error: torch.reason },
    flopsPerExample: Object.fromEntries([...macsByModel].map(([name, macs]) => [name, trainingFlopsPerExample(macs)])),
    models: rows.map((r) => ({
      name: r.name,
      backend: r.backend,
      samplesPerSec: r.samplesPerSec == null ? null : Math.round(r.samplesPerSec),
      gflops: r.gflops == null ? null : round(r.gflops, 2),
      torchSamplesPerSec: r.torchSamplesPerSec == null ? null : Math.round(r.torchSamplesPerSec),
      torchConfig: r.torchConfig,
      ratio: r.ratio == null ? null : round(r.ratio, 3),
      ...(r.error ? { error: r.error } : {}),
    })),
    skippedBackends: skipped,
    tensorCounts: traces,
    sidecarStartup: startup,
    quickStart: quick,
    streaming,
    monitor,
    totalSeconds: Math.round(totalSeconds),
  };
  if (save) {
    const path = recordPath('cpu', startedAt, outFile);
    saveRecord(path, record);
    say(`kept ${relative(process.cwd(), path)} (npm run bench:tables puts it into README.md and docs/BENCH.md)`);
  }
  if (json) console.log(JSON.stringify(record));
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
