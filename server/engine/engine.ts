// The engine: probes the TF.js backends, picks the best one that trains (or the one the user named)
// and reports what it found. The same code serves the sidecar and the CLI.
import * as tf from '@tensorflow/tfjs';
import { BACKEND_NAMES, type BackendName, type BackendProbe, type EngineInfo } from '../protocol';
import { cpuSummary } from './device';
import {
  BackendLoadError,
  BackendUnavailableError,
  EngineCancelledError,
  NoBackendError,
  errorMessage,
} from './errors';
import { fastGradientsRegistered, registerFastGradients } from './kernels/gradients';
import { loadNativeBackend } from './native';
import { checkTrainingStep } from './training-check';
import { nativeBlasStatus, prepareWasmBackend, wasmDevice, wasmKernelsAddedByGowide } from './wasm';
import { loadWebgpuBackend } from './webgpu';

export { BackendUnavailableError, EngineCancelledError, NoBackendError } from './errors';

export interface InitEngineOptions {
  /** Use this backend or fail with its reason; absent picks the best that loads. */
  backend?: BackendName;
  log?: (message: string) => void;
  /** Aborting stops waiting for the probes and rejects with EngineCancelledError. */
  signal?: AbortSignal;
  /** Probe again instead of reusing the results of an earlier call. */
  refresh?: boolean;
}

/** A probe that has not finished after this long counts as failed. */
const PROBE_TIMEOUT_MS = 30_000;

/** The name TF.js registers each backend under (both native packages register "tensorflow"). */
const TFJS_NAME: Record<BackendName, string> = {
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  webgpu: 'webgpu',
  wasm: 'wasm',
  cpu: 'cpu',
};

interface ProbeOutcome {
  probe: BackendProbe;
  device?: string;
}

let probeResults: Map<BackendName, ProbeOutcome> | undefined;
let currentInfo: EngineInfo | undefined;
/** initEngine calls run one after another: switching backends mid-probe would corrupt both. */
let queue: Promise<unknown> = Promise.resolve();

/** The engine state after the last successful initEngine, if any. */
export function getEngineInfo(): EngineInfo | undefined {
  return currentInfo;
}

export function initEngine(options: InitEngineOptions = {}): Promise<EngineInfo> {
  const run = queue.then(() => initEngineNow(options));
  queue = run.catch(() => undefined);
  return run;
}

/** Probes every backend (or reuses earlier probes) without changing the active one. */
export async function probeBackends(options: Omit<InitEngineOptions, 'backend'> = {}): Promise<BackendProbe[]> {
  const run = queue.then(async () => {
    const before = tf.getBackend();
    const results = await ensureProbed(options);
    if (before && tf.getBackend() !== before) await tf.setBackend(before);
    return [...results.values()].map((r) => r.probe);
  });
  queue = run.catch(() => undefined);
  return run;
}

async function initEngineNow(options: InitEngineOptions): Promise<EngineInfo> {
  const results = await ensureProbed(options);
  const chosen = options.backend ?? BACKEND_NAMES.find((name) => results.get(name)?.probe.ok);
  const info = (active: BackendName): EngineInfo => ({
    active,
    device: results.get(active)?.device ?? `CPU: ${cpuSummary()}`,
    ...(options.backend ? { requested: options.backend } : {}),
    backends: BACKEND_NAMES.map((name) => results.get(name)!.probe),
    tfjsVersion: tf.version.tfjs,
    nodeVersion: process.versions.node,
    notes: engineNotes(active),
  });
  if (!chosen) throw new NoBackendError(info('cpu'));
  const outcome = results.get(chosen)!;
  if (!outcome.probe.ok) throw new BackendUnavailableError(chosen, outcome.probe.reason ?? 'unknown', info(chosen));
  if (!(await tf.setBackend(TFJS_NAME[chosen]))) {
    throw new BackendUnavailableError(chosen, 'TF.js could not switch to it after a successful probe');
  }
  currentInfo = info(chosen);
  options.log?.(`engine: using ${chosen} (${currentInfo.device})`);
  return currentInfo;
}

async function ensureProbed(options: InitEngineOptions): Promise<Map<BackendName, ProbeOutcome>> {
  if (probeResults && !options.refresh) return probeResults;
  const results = new Map<BackendName, ProbeOutcome>();
  for (const name of BACKEND_NAMES) {
    // Probes can finish without ever yielding to the event loop; yield so an abort can arrive.
    await new Promise((resolve) => setImmediate(resolve));
    throwIfAborted(options.signal);
    const outcome = await withAbort(probeOne(name), options.signal);
    results.set(name, outcome);
    const { probe } = outcome;
    options.log?.(`engine: ${name} ${probe.ok ? 'ok' : 'unavailable'} in ${probe.seconds.toFixed(2)} s${probe.ok ? '' : `: ${probe.reason}`}`);
  }
  probeResults = results;
  return results;
}

async function probeOne(name: BackendName): Promise<ProbeOutcome> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  try {
    // The warnings (e.g. TF.js's "install our node backend" banner on first cpu use) are noise here.
    const { result: device } = await collectingWarnings((warnings) =>
      withTimeout(loadAndTrain(name, warnings), PROBE_TIMEOUT_MS),
    );
    return { probe: { name, ok: true, seconds: seconds() }, device };
  } catch (error) {
    const reason = error instanceof BackendLoadError ? error.reason : `a training step failed: ${errorMessage(error)}`;
    return { probe: { name, ok: false, reason, seconds: seconds() } };
  }
}

/** Registers the backend if needed, makes it active and runs one training step; returns device text. */
async function loadAndTrain(name: BackendName, warnings: string[]): Promise<string> {
  // Tile's and FusedBatchNorm's gradients (TF.js keeps one gradient registry for all backends).
  registerFastGradients();
  let device: string | undefined;
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow':
      device = loadNativeBackend(name === 'tensorflow-gpu');
      break;
    case 'webgpu':
      device = await loadWebgpuBackend();
      break;
    case 'wasm':
      prepareWasmBackend();
      break;
    case 'cpu':
      device = `CPU: ${cpuSummary()}, pure JavaScript`;
      break;
  }
  await activate(TFJS_NAME[name], warnings);
  await checkTrainingStep();
  return device ?? (await wasmDevice());
}

/** Makes the backend active; tf.setBackend reports why it failed only through console.warn. */
async function activate(tfjsName: string, warnings: string[]): Promise<void> {
  const seen = warnings.length;
  if (await tf.setBackend(tfjsName)) return;
  const detail = warnings
    .slice(seen)
    .join('\n')
    .split('\n')
    .find((line) => line.trim() && !line.startsWith('Initialization of backend'));
  throw new BackendLoadError(`TF.js could not initialise it${detail ? `: ${detail.trim()}` : ''}`);
}

/** Runs work with console.warn collected instead of printed. */
async function collectingWarnings<T>(work: (warnings: string[]) => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const originalWarn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.map(String).join(' '));
  try {
    return { result: await work(warnings), warnings };
  } finally {
    console.warn = originalWarn;
  }
}

function engineNotes(active: BackendName): string[] {
  const notes: string[] = [];
  if (active === 'wasm') {
    const missing = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'UnsortedSegmentSum'].filter(
      (kernel) => !tf.getKernel(kernel, 'wasm'),
    );
    if (missing.length > 0) {
      notes.push(`wasm lacks kernels ${missing.join(', ')}: convolutional models cannot train on it; use cpu for them`);
    }
    const added = wasmKernelsAddedByGowide();
    if (added.length > 0) notes.push(`wasm kernels added or replaced by gowide: ${added.join(', ')}`);
    notes.push(nativeBlasStatus());
  }
  const gradients = fastGradientsRegistered();
  if (gradients.length > 0) notes.push(`TF.js gradients replaced by gowide (same values, fewer kernels): ${gradients.join(', ')}`);
  return notes;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EngineCancelledError();
}

function withAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new EngineCancelledError());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BackendLoadError(`its probe did not finish within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer)) as Promise<T>;
}
