// Measurements of the built sidecar and CLI (dist/cli.js, from `npm run build`):
//   - start to first answer: spawn `node dist/cli.js sidecar --stdio`, time to the initialize
//     response and to the first gowide/engineInfo response;
//   - peak RSS (VmHWM) and wall time per stage of a quick-start-like headless run (`gowide run`);
//   - the cost of streaming metrics: the same tiny experiment run over the sidecar with a client that
//     listens to gowide/metrics notifications and with one that does not, alternating.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { EngineInfoRequest, MetricsNotification, StartStageRequest } from '../../server/protocol';
import { builtCli, repoRoot, stopSidecarProcess } from '../../test/sidecar/sidecar-process';

export { repoRoot };


const initializeParams = { processId: process.pid, rootUri: null, capabilities: {} };

interface Sidecar {
  connection: MessageConnection;
  spawnedAt: number;
  stop(): Promise<void>;
}

function startSidecar(): Sidecar {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [builtCli, 'sidecar', '--stdio'], { cwd: repoRoot, stdio: 'pipe' });
  child.stderr.resume();
  const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, log: () => undefined };
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin), quiet);
  connection.listen();
  return {
    connection,
    spawnedAt,
    stop: () => stopSidecarProcess(child, connection),
  };
}

export interface StartupTimes {
  initializeMs: number;
  engineInfoMs: number;
  backend: string;
}

/** Spawn to the initialize response, and to the first engineInfo response (backend probing included). */
export async function sidecarStartup(): Promise<StartupTimes> {
  const sidecar = startSidecar();
  try {
    await sidecar.connection.sendRequest('initialize', initializeParams);
    const initializeMs = performance.now() - sidecar.spawnedAt;
    await sidecar.connection.sendNotification('initialized', {});
    const info = await sidecar.connection.sendRequest(EngineInfoRequest, {});
    return { initializeMs, engineInfoMs: performance.now() - sidecar.spawnedAt, backend: info.active };
  } finally {
    await sidecar.stop();
  }
}

function tinyExperiment(name: string): object {
  return {
    name,
    data: { format: 'shapes', trainLimit: 4000, testLimit: 256, validationSplit: 0.1 },
    model: { family: 'mlp', depth: 6, width: 24 },
    widen: { factor: 4 },
    wide: { epochs: 4, batchSize: 32, learningRate: 0.001 },
    seeds: [1],
  };
}

export interface StreamingCost {
  withClientSeconds: number[];
  withoutClientSeconds: number[];
  metricRecords: number;
  notifications: number;
  /** (median with - median without) / median without, in %. */
  overheadPercent: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The "wide" stage of a tiny experiment over the sidecar, with and without a metrics listener (alternating). */
export async function streamingCost(repeats = 2): Promise<StreamingCost> {
  const dir = mkdtempSync(join(tmpdir(), 'gowide-bench-stream-'));
  const experimentPath = join(dir, 'stream.gowide.json');
  writeFileSync(experimentPath, JSON.stringify(tinyExperiment('stream')));
  const sidecar = startSidecar();
  let listening = false;
  let records = 0;
  let notifications = 0;
  sidecar.connection.onNotification(MetricsNotification, (params) => {
    if (!listening) return;
    notifications++;
    records += params.records.length;
  });
  const withClient: number[] = [];
  const without: number[] = [];
  try {
    await sidecar.connection.sendRequest('initialize', initializeParams);
    await sidecar.connection.sendNotification('initialized', {});
    await sidecar.connection.sendRequest(EngineInfoRequest, {});
    const runOnce = async () => {
      const start = performance.now();
      await sidecar.connection.sendRequest(StartStageRequest, { experimentPath, stage: 'wide', runsDir: join(dir, 'runs'), wait: true });
      return (performance.now() - start) / 1000;
    };
    await runOnce(); // warm-up (kernel setup, data generation caches)
    for (let i = 0; i < repeats; i++) {
      // Alternate the order so drift (other jobs, thermal) hits both arms alike.
      for (const arm of i % 2 === 0 ? ['with', 'without'] : ['without', 'with']) {
        listening = arm === 'with';
        const seconds = await runOnce();
        (arm === 'with' ? withClient : without).push(seconds);
      }
    }
  } finally {
    await sidecar.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const a = median(withClient);
  const b = median(without);
  return {
    withClientSeconds: withClient,
    withoutClientSeconds: without,
    metricRecords: records,
    notifications,
    overheadPercent: ((a - b) / b) * 100,
  };
}

export interface QuickRun {
  peakRssMiB: number;
  wallSeconds: number;
  stageSeconds: Record<string, number>;
  ok: boolean;
  error?: string;
}

/** A quick-start-like headless run (examples/quickstart.gowide.json, one seed, fewer examples and
 *  epochs) under `gowide run --json`, its peak RSS read from /proc (VmHWM) while it runs. */
export async function quickStartRun(): Promise<QuickRun> {
  const dir = mkdtempSync(join(tmpdir(), 'gowide-bench-quick-'));
  const quick = JSON.parse(readFileSync(join(repoRoot, 'examples', 'quickstart.gowide.json'), 'utf8'));
  quick.name = 'bench-quickstart';
  quick.data = { ...quick.data, trainLimit: 4000, testLimit: 1000 };
  quick.imitate = { ...quick.imitate, epochsPerLayer: 1 };
  quick.finetune = { ...quick.finetune, epochs: 2 };
  quick.seeds = [1];
  const file = join(dir, 'quick.gowide.json');
  writeFileSync(file, JSON.stringify(quick));
  const start = performance.now();
  const child = spawn(process.execPath, [builtCli, 'run', file, '--json', '--quiet', '--runs-dir', join(dir, 'runs')], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let peakKiB = 0;
  const readPeak = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const match = /VmHWM:\s+(\d+) kB/.exec(status);
      if (match) peakKiB = Math.max(peakKiB, Number(match[1]));
    } catch {
      // exited
    }
  };
  const timer = setInterval(readPeak, 50);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(timer);
  const wallSeconds = (performance.now() - start) / 1000;
  rmSync(dir, { recursive: true, force: true });
  const last = stdout.trim().split('\n').pop() ?? '';
  let stageSeconds: Record<string, number> = {};
  try {
    const report = JSON.parse(last);
    stageSeconds = report.diagnostics?.stageSeconds ?? report.stageSeconds ?? {};
  } catch {
    // not JSON: reported below
  }
  return {
    peakRssMiB: peakKiB / 1024,
    wallSeconds,
    stageSeconds,
    ok: code === 0,
    ...(code === 0 ? {} : { error: `exit ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` }),
  };
}

export function builtCliExists(): boolean {
  return existsSync(builtCli);
}
