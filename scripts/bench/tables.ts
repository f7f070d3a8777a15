// `npm run bench:tables`: the benchmark tables in README.md and docs/BENCH.md, generated from the runs
// kept in docs/bench/*.json (every `npm run bench` writes one; scripts/gpu/check.sh's JSON is copied
// there by hand). Each table is written between a pair of marker comments,
//   <!-- bench:NAME:start --> ... <!-- bench:NAME:end -->
// so the text around them is left alone. Tables:
//   readme-cpu  README.md      the current CPU run: samples/s, ratios, GFLOP/s
//   cpu         docs/BENCH.md  the current CPU run in full: PyTorch under each threads configuration
//   cpu-runs    docs/BENCH.md  every kept CPU run, one line each
//   gpu         docs/BENCH.md  the newest GPU run (webgpu against PyTorch CUDA), or how to make one
// The current CPU run is the newest complete one (every model, PyTorch measured), or --cpu FILE.
//
//   npm run bench:tables [-- --cpu docs/bench/FILE.json] [--check]
// --check changes nothing and fails when a file is not up to date.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BENCH_RECORDS_DIR } from './record';
import { repoRoot } from './sidecar';

interface CpuModelRow {
  name: string;
  backend: string;
  samplesPerSec: number | null;
  gflops?: number | null;
  torchSamplesPerSec: number | null;
  torchConfig?: string | null;
  ratio: number | null;
}

interface CpuRecord {
  kind?: 'cpu';
  file: string;
  date?: string;
  label?: string;
  git?: { commit: string; dirty: boolean } | null;
  machine: { nproc: number; cpuModel: string; threads?: number; loadAverage?: { start: number | null; afterTorch?: number | null; end: number | null } };
  batch: number;
  seconds: number;
  peaks?: { size: number; nativeSgemm: { gflops: number; threads: number } | { error: string }; torchMatmul: { gflops: number; config: string } | null };
  torch: { version?: string; configs?: string[]; byModel?: Record<string, { config: string; byConfig: Record<string, number> }>; error?: string };
  flopsPerExample?: Record<string, number>;
  models: CpuModelRow[];
}

interface GpuRecord {
  kind: 'gpu';
  file: string;
  date: string;
  label?: string;
  git?: { commit: string; dirty: boolean } | null;
  machine: { gpus: string[]; nvidiaDriver: string | null; cpuModel: string; nproc: number };
  adapter: string | null;
  webgpuError: string | null;
  seconds: number;
  torch: Record<string, { version?: string; device?: string; error?: string }>;
  peaks: { size: number; webgpuMatmul: number | null; torchMatmul: number | null };
  models: Array<{ name: string; batch: number; webgpuSamplesPerSec: number | null; torchSamplesPerSec: number | null; ratio: number | null; webgpuGflops: number | null; torchGflops: number | null; skipped?: string }>;
}

type BenchRecord = CpuRecord | GpuRecord;

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const GOWIDE = 'wasm+native';
const int = (x: number | null | undefined) => (x == null ? '-' : Math.round(x).toLocaleString('en-US'));
const fixed = (x: number | null | undefined, digits: number) => (x == null ? '-' : x.toFixed(digits));
const ratio = (x: number | null | undefined) => (x == null ? '-' : x >= 1 ? `**${x.toFixed(2)}x**` : `${x.toFixed(2)}x`);
const dateOf = (r: { date?: string; file: string }) => (r.date ? `${r.date.slice(0, 16).replace('T', ' ')} UTC` : basename(r.file, '.json'));
const commitOf = (r: { git?: { commit: string; dirty: boolean } | null }) => (r.git ? `${r.git.commit}${r.git.dirty ? ' (with changes)' : ''}` : 'unknown commit');

export function readRecords(dir = BENCH_RECORDS_DIR): BenchRecord[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const records: BenchRecord[] = [];
  for (const f of files) {
    const record = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    if (Array.isArray(record?.models)) records.push({ ...record, file: join(dir, f) });
    else console.warn(`${join(dir, f)} is not a bench run (no "models"): left out`);
  }
  return records;
}

const isGpu = (r: BenchRecord): r is GpuRecord => r.kind === 'gpu';

/** Every model measured on wasm+native and by PyTorch. */
function complete(r: CpuRecord): boolean {
  const rows = r.models.filter((m) => m.backend === GOWIDE);
  return rows.length >= 8 && rows.every((m) => m.samplesPerSec != null && m.torchSamplesPerSec != null);
}

function loadText(r: CpuRecord): string {
  const l = r.machine.loadAverage;
  if (!l) return 'load average not recorded';
  return `load average ${[l.start, l.afterTorch, l.end].filter((x) => x !== undefined).map((x) => fixed(x, 2)).join(' / ')} (start${l.afterTorch !== undefined ? ' / after PyTorch' : ''} / end)`;
}

function peakText(r: CpuRecord): string {
  if (!r.peaks) return '';
  const sgemm = 'error' in r.peaks.nativeSgemm ? 'not measured' : `${r.peaks.nativeSgemm.gflops.toFixed(1)} GFLOP/s`;
  const torch = r.peaks.torchMatmul ? `${r.peaks.torchMatmul.gflops.toFixed(1)} GFLOP/s (${r.peaks.torchMatmul.config})` : 'not measured';
  return `float32 ${r.peaks.size}^3 product peak: native sgemm ${sgemm}, PyTorch matmul ${torch}`;
}

function runLine(r: CpuRecord): string {
  const threads = r.machine.threads ?? 2;
  return (
    `Run of ${dateOf(r)} at ${commitOf(r)} (\`${basename(r.file)}\`): ${r.machine.nproc} cores (${r.machine.cpuModel}), ` +
    `--threads ${threads}, batch ${r.batch}, ${r.seconds} s per measurement, PyTorch ${r.torch.version ?? '-'}; ${loadText(r)}` +
    `${r.label ? `; ${r.label}` : ''}.`
  );
}

const rowOf = (r: CpuRecord, name: string, backend: string) => r.models.find((m) => m.name === name && m.backend === backend);
const modelNames = (r: CpuRecord) => [...new Set(r.models.map((m) => m.name))];

export function readmeCpuTable(r: CpuRecord): string {
  const lines = [
    runLine(r),
    '',
    '| model | PyTorch CPU, best threads (torch + OpenBLAS) | wasm + native | wasm | ratio (wasm + native) | GFLOP/s wasm + native / PyTorch |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const name of modelNames(r)) {
    const g = rowOf(r, name, GOWIDE);
    const w = rowOf(r, name, 'wasm');
    const torchGflops = g?.torchSamplesPerSec != null && r.flopsPerExample?.[name] ? (g.torchSamplesPerSec * r.flopsPerExample[name]) / 1e9 : null;
    lines.push(
      `| ${name} | ${int(g?.torchSamplesPerSec)} (${g?.torchConfig ?? '-'}) | ${int(g?.samplesPerSec)} | ${int(w?.samplesPerSec)} | ${ratio(g?.ratio)} | ${fixed(g?.gflops, 1)} / ${fixed(torchGflops, 1)} |`,
    );
  }
  if (r.peaks) lines.push('', `${peakText(r)}.`);
  return lines.join('\n');
}

export function cpuTable(r: CpuRecord): string {
  const configs = r.torch.configs ?? [];
  const backends = [...new Set(r.models.map((m) => m.backend))];
  const lines = [
    runLine(r),
    '',
    `samples/s; PyTorch under each threads configuration (torch threads + OpenBLAS threads), the fastest in bold and compared against; ` +
      `ratio = TF.js / PyTorch's fastest; GFLOP/s = 6 x forward multiply-adds per example x samples/s. ${peakText(r)}.`,
    '',
    `| model | MFLOP/example | ${configs.map((c) => `PyTorch ${c}`).join(' | ')} | ${backends.map((b) => `${b} (ratio)`).join(' | ')} | GFLOP/s ${GOWIDE} | GFLOP/s PyTorch |`,
    `|---|---:|${configs.map(() => '---:|').join('')}${backends.map(() => '---:|').join('')}---:|---:|`,
  ];
  for (const name of modelNames(r)) {
    const byConfig = r.torch.byModel?.[name];
    const flops = r.flopsPerExample?.[name];
    const torchCells = configs.map((c) => {
      const rate = byConfig?.byConfig[c];
      return c === byConfig?.config ? `**${int(rate)}**` : int(rate);
    });
    const backendCells = backends.map((b) => {
      const row = rowOf(r, name, b);
      return row ? `${int(row.samplesPerSec)} (${fixed(row.ratio, 2)}x)` : '';
    });
    const g = rowOf(r, name, GOWIDE);
    const torchGflops = g?.torchSamplesPerSec != null && flops ? (g.torchSamplesPerSec * flops) / 1e9 : null;
    lines.push(`| ${name} | ${fixed(flops == null ? null : flops / 1e6, 2)} | ${torchCells.join(' | ')} | ${backendCells.join(' | ')} | ${fixed(g?.gflops, 1)} | ${fixed(torchGflops, 1)} |`);
  }
  return lines.join('\n');
}

export function cpuRunsTable(records: CpuRecord[]): string {
  const lines = [
    '| run | commit | load (start / end) | PyTorch configs | models >= 1.0x | lowest ratio | label |',
    '|---|---|---|---|---:|---|---|',
  ];
  for (const r of records) {
    const rows = r.models.filter((m) => m.backend === GOWIDE && m.ratio != null);
    const lowest = rows.reduce<CpuModelRow | null>((low, m) => (low == null || m.ratio! < low.ratio! ? m : low), null);
    const l = r.machine.loadAverage;
    lines.push(
      `| \`${basename(r.file)}\` | ${commitOf(r)} | ${l ? `${fixed(l.start, 2)} / ${fixed(l.end, 2)}` : '-'} | ${(r.torch.configs ?? ['2 threads']).join(', ')} | ` +
        `${rows.filter((m) => m.ratio! >= 1).length} of ${rows.length} | ${lowest ? `${lowest.ratio!.toFixed(2)}x (${lowest.name})` : '-'} | ${r.label ?? ''} |`,
    );
  }
  return lines.join('\n');
}

export function gpuTable(r: GpuRecord | undefined): string {
  if (!r) {
    return 'No GPU run kept yet. On a machine with an NVIDIA GPU: `scripts/gpu/check.sh` (see above); copy its `gpu-bench.json` into `docs/bench/` as `DATE-gpu.json` and run `npm run bench:tables`.';
  }
  const torch = Object.values(r.torch)[0];
  const lines = [
    `Run of ${dateOf(r)} at ${commitOf(r)} (\`${basename(r.file)}\`): ${r.machine.gpus.join(', ') || 'no NVIDIA GPU'} (driver ${r.machine.nvidiaDriver ?? '-'}), ` +
      `webgpu adapter ${r.adapter ?? `none (${r.webgpuError})`}, PyTorch ${torch?.version ?? '-'} on ${torch?.device ?? '-'}; ${r.seconds} s per measurement${r.label ? `; ${r.label}` : ''}. ` +
      `float32 ${r.peaks.size}^3 product: webgpu ${fixed(r.peaks.webgpuMatmul, 0)} GFLOP/s, PyTorch ${fixed(r.peaks.torchMatmul, 0)} GFLOP/s.`,
    '',
    '| model | batch | PyTorch CUDA | webgpu | ratio | GFLOP/s PyTorch | GFLOP/s webgpu |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const m of r.models) {
    lines.push(
      `| ${m.name} | ${m.batch} | ${int(m.torchSamplesPerSec)} | ${m.webgpuSamplesPerSec == null ? (m.skipped ?? '-') : int(m.webgpuSamplesPerSec)} | ${fixed(m.ratio, 2)}x | ${fixed(m.torchGflops, 1)} | ${fixed(m.webgpuGflops, 1)} |`,
    );
  }
  return lines.join('\n');
}

/** `text` with the part between NAME's markers replaced by `body`; throws when the markers are missing. */
export function replaceBetweenMarkers(text: string, name: string, body: string, file: string): string {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} has no ${start} ... ${end} pair: add it where the table belongs`);
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
}

function main(): void {
  const records = readRecords();
  const cpuRuns = records.filter((r): r is CpuRecord => !isGpu(r));
  const chosen = option('cpu');
  const current = chosen ? cpuRuns.find((r) => r.file.endsWith(basename(chosen))) : [...cpuRuns].reverse().find(complete);
  if (!current) throw new Error(chosen ? `${chosen} is not a CPU run in ${BENCH_RECORDS_DIR}` : `no complete CPU run in ${BENCH_RECORDS_DIR}: run "npm run bench"`);
  const gpu = [...records].reverse().find(isGpu);
  const targets: Array<[string, Array<[string, string]>]> = [
    [join(repoRoot, 'README.md'), [['readme-cpu', readmeCpuTable(current)]]],
    [
      join(repoRoot, 'docs', 'BENCH.md'),
      [
        ['cpu', cpuTable(current)],
        ['cpu-runs', cpuRunsTable(cpuRuns)],
        ['gpu', gpuTable(gpu)],
      ],
    ],
  ];
  const stale: string[] = [];
  for (const [file, tables] of targets) {
    const before = readFileSync(file, 'utf8');
    const after = tables.reduce((text, [name, body]) => replaceBetweenMarkers(text, name, body, file), before);
    if (after === before) continue;
    if (process.argv.includes('--check')) stale.push(file);
    else {
      writeFileSync(file, after);
      console.log(`updated ${file}`);
    }
  }
  console.log(`current CPU run: ${basename(current.file)}; GPU run: ${gpu ? basename(gpu.file) : 'none'}`);
  if (stale.length > 0) {
    console.error(`not up to date with docs/bench/: ${stale.join(', ')} (run "npm run bench:tables")`);
    process.exit(1);
  }
}

if (require.main === module) main();
