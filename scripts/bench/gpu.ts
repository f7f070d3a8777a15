// `npm run bench:gpu`: training samples/s of the reference models (scripts/bench/models.ts, thin and
// 4x wide) on TF.js's webgpu backend (Dawn) beside PyTorch on CUDA, at several batch sizes (issue 14).
// scripts/gpu/check.sh runs it on a GPU machine; without a GPU it runs on SwiftShader against PyTorch
// CPU (--torch-device cpu), which checks the program, not the speed.
//
//   node --import tsx scripts/bench/gpu.ts [--batches 128,512] [--seconds 3] [--models a,b]
//        [--torch-device cuda|cpu] [--torch-configs 1+1] [--deadline-seconds 360] [--skip-memory]
//        [--label TEXT] [--out FILE]
//
// PyTorch runs first (all batches), then webgpu. Each measurement: warm-up steps (shader compilation),
// then --seconds of steps (scripts/bench/throughput.ts: losses read every 10 steps, the clock stopped
// after the queue drains). A model whose measurement would start after --deadline-seconds is skipped
// and named, so the whole run keeps to a time budget. Also: the float32 product peak on both sides
// (PyTorch matmul, TF.js matMul on webgpu) and each model's achieved GFLOP/s; with memory on, TF.js
// memory across epochs of gowide's training loop on webgpu (scripts/bench/tensors.ts). The JSON goes to
// --out, else docs/bench/<date>-gpu.json.
import { relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { nvidiaDriverVersion, nvidiaGpuNames } from '../../server/engine/device';
import { loadWebgpuBackend } from '../../server/engine/webgpu';
import { benchModels, trainingFlopsPerExample } from './models';
import { gitCommit, loadAverage, machine, recordPath, saveRecord } from './record';
import { memoryTraces, type TensorTrace } from './tensors';
import { measureThroughput } from './throughput';
import { runTorch, torchThreadConfigs, type TorchOutcome } from './torch';

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}
const batches = (option('batches') ?? '128,512').split(',').map(Number);
const seconds = Number(option('seconds') ?? 3);
const onlyModels = option('models')?.split(',');
const torchDevice = (option('torch-device') ?? 'cuda') as 'cuda' | 'cpu';
const torchConfigs = option('torch-configs')?.split(',') ?? torchThreadConfigs(2);
const deadlineSeconds = Number(option('deadline-seconds') ?? 360);
const skipMemory = process.argv.includes('--skip-memory');
const label = option('label');
const outFile = option('out');
/** Square product for the peaks: large enough to fill a GPU, small enough for SwiftShader with --peak-size. */
const peakSize = Number(option('peak-size') ?? 4096);

const say = (line: string) => console.log(line);
const started = performance.now();
const elapsedSeconds = () => (performance.now() - started) / 1000;

interface GpuRow {
  name: string;
  batch: number;
  webgpuSamplesPerSec: number | null;
  torchSamplesPerSec: number | null;
  ratio: number | null;
  webgpuGflops: number | null;
  torchGflops: number | null;
  steps?: number;
  skipped?: string;
}

/** float32 n x n x n products per second on the active TF.js backend, as GFLOP/s. */
async function tfMatmulGflops(n: number, seconds: number): Promise<number> {
  const a = tf.randomUniform([n, n]);
  const b = tf.randomUniform([n, n]);
  const product = async (count: number) => {
    for (let i = 0; i < count; i++) tf.tidy(() => tf.matMul(a, b)).dispose();
    const probe = tf.matMul(a.slice([0, 0], [1, n]), b);
    await probe.data();
    probe.dispose();
  };
  try {
    await product(1);
    let count = 0;
    const start = performance.now();
    while (count < 2 || performance.now() - start < seconds * 1000) {
      await product(4);
      count += 4;
    }
    return (count * 2 * n ** 3) / ((performance.now() - start) / 1000) / 1e9;
  } finally {
    tf.dispose([a, b]);
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = loadAverage();
  const git = gitCommit();
  const box = machine();
  const gpus = nvidiaGpuNames();
  const models = benchModels().filter((m) => !onlyModels || onlyModels.some((name) => m.name.startsWith(name)));
  say(`gowide GPU bench: ${gpus.join(', ') || 'no NVIDIA GPU'} (driver ${nvidiaDriverVersion() ?? 'none'}), ${box.nproc} cores, Node ${box.node}, TF.js ${box.tfjs}`);
  say(`batches ${batches.join(', ')}, Adam 1e-3, ${seconds} s per model after a warm-up, deadline ${deadlineSeconds} s`);

  // --- PyTorch, every batch size, before TF.js starts.
  const torchByBatch = new Map<number, TorchOutcome>();
  for (const batch of batches) {
    say(`PyTorch on ${torchDevice}, batch ${batch} ...`);
    const outcome = runTorch(models, { seconds, batch, device: torchDevice, configs: torchConfigs, matmulSize: peakSize });
    torchByBatch.set(batch, outcome);
    if (!outcome.available) say(`  PyTorch not measured: ${outcome.reason}`);
    for (const [name, error] of outcome.errors) say(`  PyTorch ${name}: ${error}`);
    for (const [name, run] of outcome.byModel) say(`  ${name.padEnd(26)} ${run.samplesPerSec.toFixed(0).padStart(9)} samples/s (${run.config})`);
  }
  const torchFirst = torchByBatch.get(batches[0]);
  const torchPeak = torchFirst?.matmul;
  if (torchFirst?.available) say(`PyTorch ${torchFirst.version} on ${torchFirst.device}: ${peakSize}^3 float32 matmul ${torchPeak ? `${torchPeak.best.toFixed(0)} GFLOP/s` : 'not measured'}`);

  // --- webgpu.
  let adapter: string | null = null;
  let webgpuReason: string | null = null;
  try {
    adapter = await loadWebgpuBackend();
    if (!(await tf.setBackend('webgpu'))) webgpuReason = 'tf.setBackend("webgpu") failed';
  } catch (error) {
    webgpuReason = (error as Error).message.split('\n')[0];
  }
  say(webgpuReason ? `webgpu not measured: ${webgpuReason}` : `webgpu: ${adapter}`);
  const webgpuPeak = webgpuReason ? null : await tfMatmulGflops(peakSize, 1);
  if (webgpuPeak != null) say(`webgpu: ${peakSize}^3 float32 tf.matMul ${webgpuPeak.toFixed(1)} GFLOP/s`);

  const rows: GpuRow[] = [];
  for (const batch of batches) {
    for (const model of models) {
      const torchRate = torchByBatch.get(batch)?.byModel.get(model.name)?.samplesPerSec ?? null;
      const row: GpuRow = { name: model.name, batch, webgpuSamplesPerSec: null, torchSamplesPerSec: torchRate, ratio: null, webgpuGflops: null, torchGflops: null };
      rows.push(row);
      if (webgpuReason) {
        row.skipped = webgpuReason;
        continue;
      }
      if (elapsedSeconds() > deadlineSeconds) {
        row.skipped = `deadline: ${elapsedSeconds().toFixed(0)} s had passed`;
        say(`  webgpu ${model.name.padEnd(26)} batch ${batch}: skipped (${row.skipped})`);
        continue;
      }
      try {
        const r = await measureThroughput(model, seconds, 2, 2, batch);
        const flops = trainingFlopsPerExample(r.macsPerExample);
        row.webgpuSamplesPerSec = r.samplesPerSec;
        row.steps = r.steps;
        row.webgpuGflops = (r.samplesPerSec * flops) / 1e9;
        row.torchGflops = torchRate == null ? null : (torchRate * flops) / 1e9;
        row.ratio = torchRate ? r.samplesPerSec / torchRate : null;
        say(`  webgpu ${model.name.padEnd(26)} batch ${String(batch).padStart(4)}: ${r.samplesPerSec.toFixed(0).padStart(9)} samples/s (${r.steps} steps)`);
      } catch (error) {
        row.skipped = `failed: ${(error as Error).message.split('\n')[0]}`;
        say(`  webgpu ${model.name.padEnd(26)} batch ${batch}: ${row.skipped}`);
      }
    }
  }

  // --- Table.
  const fmt = (x: number | null | undefined, digits = 0) => (x == null ? '-' : x.toFixed(digits));
  say('');
  say(`Training samples/s: webgpu against PyTorch ${torchDevice}; ratio = webgpu / PyTorch; achieved GFLOP/s = 6 x forward multiply-adds x samples/s`);
  say(`float32 ${peakSize}^3 product peak: webgpu ${fmt(webgpuPeak, 1)} GFLOP/s, PyTorch ${fmt(torchPeak?.best, 1)} GFLOP/s`);
  say(['model'.padEnd(26), 'batch'.padStart(6), 'PyTorch'.padStart(11), 'webgpu'.padStart(11), 'ratio'.padStart(8), 'GFLOP/s PT'.padStart(12), 'GFLOP/s wg'.padStart(12)].join(''));
  for (const r of rows) {
    say(
      [
        r.name.padEnd(26),
        String(r.batch).padStart(6),
        fmt(r.torchSamplesPerSec).padStart(11),
        (r.skipped && r.webgpuSamplesPerSec == null ? 'skipped' : fmt(r.webgpuSamplesPerSec)).padStart(11),
        (r.ratio == null ? '-' : `${r.ratio.toFixed(2)}x`).padStart(8),
        fmt(r.torchGflops, 1).padStart(12),
        fmt(r.webgpuGflops, 1).padStart(12),
      ].join(''),
    );
  }
  const wide = rows.filter((r) => r.name.includes('(4x') && r.ratio != null);
  if (wide.length > 0) say(`wide nets: webgpu / PyTorch ${Math.min(...wide.map((r) => r.ratio!)).toFixed(2)}x - ${Math.max(...wide.map((r) => r.ratio!)).toFixed(2)}x (goal on an H100: >= 0.5x)`);

  const memory: TensorTrace[] = webgpuReason || skipMemory ? [] : await memoryTraces('webgpu', models, say);

  const totalSeconds = elapsedSeconds();
  say('');
  say(`GPU bench took ${totalSeconds.toFixed(0)} s`);
  const round = (x: number | null, digits = 0) => (x == null ? null : Number(x.toFixed(digits)));
  const record = {
    kind: 'gpu',
    date: startedAt.toISOString(),
    ...(label ? { label } : {}),
    git,
    machine: { ...box, gpus, nvidiaDriver: nvidiaDriverVersion() ?? null, loadAverage: { start: loadAtStart, end: loadAverage() } },
    adapter,
    webgpuError: webgpuReason,
    seconds,
    batches,
    torch: Object.fromEntries(
      [...torchByBatch].map(([batch, t]) => [batch, t.available ? { version: t.version, device: t.device, configs: t.configs } : { error: t.reason }]),
    ),
    peaks: { size: peakSize, webgpuMatmul: round(webgpuPeak, 1), torchMatmul: round(torchPeak?.best ?? null, 1) },
    models: rows.map((r) => ({
      ...r,
      webgpuSamplesPerSec: round(r.webgpuSamplesPerSec),
      torchSamplesPerSec: round(r.torchSamplesPerSec),
      ratio: round(r.ratio, 3),
      webgpuGflops: round(r.webgpuGflops, 2),
      torchGflops: round(r.torchGflops, 2),
    })),
    memory,
    totalSeconds: Math.round(totalSeconds),
  };
  const path = recordPath('gpu', startedAt, outFile);
  saveRecord(path, record);
  say(`kept ${relative(process.cwd(), path)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
