// The engine: probes the TF.js backends, picks the best one that trains (or the one the user named)
// and reports what it found. The same code serves the sidecar and the CLI.
import * as tf from '@tensorflow/tfjs';
import { BACKEND_NAMES, type BackendName, type BackendProbe, type EngineInfo, type EngineProbeReport } from '../protocol';
import { cpuSummary } from './device';
import {
  BackendLoadError,
  BackendUnavailableError,
  EngineCancelledError,
  NoBackendError,
  errorMessage,
} from './errors';
import { fastGradientsRegistered, registerFastGradients } from './kernels/gradients';
import { compositeFusedOps } from './kernels/fused-ops';
import { MAX_ROW, registerWebgpuRowKernels } from './kernels/webgpu-rows';
import { registerWebgpuAdam } from './kernels/webgpu-adam';
import { loadTfjsNodeBackend } from './tfjs-node';
import { checkTrainingStep } from './training-check';
import { nativeBlasStatus, prepareWasmBackend, wasmDevice, wasmKernelsAddedByGowide } from './wasm';
import { discoverWebgpuAdapter, loadWebgpuBackend, type WebgpuDiscovery } from './webgpu';
import { automaticChoiceRefusal, heldBackReason } from './webgpu-adapter';

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
  /** The policy kept the probe from trying it (a software adapter): naming the backend tries it. */
  declined?: boolean;
}

let probeResults: Map<BackendName, ProbeOutcome> | undefined;
/** Dawn's adapter discovery for the current round of probes (a child process, see webgpu.ts). */
let webgpuDiscovery: Promise<WebgpuDiscovery> | undefined;
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
  const named = options.backend;
  if (named && results.get(named)?.declined) {
    // Probed in auto mode, where the policy skipped it: the user named it, so try it now.
    results.set(named, await withAbort(probeOne(named, true), options.signal));
    logProbe(results.get(named)!.probe, options.log);
  }
  const chosen = named ?? BACKEND_NAMES.find((name) => choosableAutomatically(results.get(name)!.probe));
  const facts = {
    ...(named ? { requested: named } : {}),
    backends: BACKEND_NAMES.map((name) => results.get(name)!.probe),
    tfjsVersion: tf.version.tfjs,
    nodeVersion: process.versions.node,
  };
  const report: EngineProbeReport = { active: null, ...facts, notes: [] };
  if (!chosen) throw new NoBackendError(report);
  const outcome = results.get(chosen)!;
  if (!outcome.probe.ok) throw new BackendUnavailableError(chosen, outcome.probe.reason ?? 'unknown', report);
  if (!(await tf.setBackend(TFJS_NAME[chosen]))) {
    throw new BackendUnavailableError(chosen, 'TF.js could not switch to it after a successful probe', report);
  }
  currentInfo = { active: chosen, device: outcome.device ?? `CPU: ${cpuSummary()}`, ...facts, notes: engineNotes(chosen) };
  options.log?.(`engine: using ${chosen} (${currentInfo.device})`);
  return currentInfo;
}

async function ensureProbed(options: InitEngineOptions): Promise<Map<BackendName, ProbeOutcome>> {
  if (probeResults && !options.refresh) return probeResults;
  const results = new Map<BackendName, ProbeOutcome>();
  // Started now, Dawn's child process overlaps the probes ranked above webgpu.
  webgpuDiscovery = discoverWebgpuAdapter();
  for (const name of BACKEND_NAMES) {
    // Probes can finish without ever yielding to the event loop; yield so an abort can arrive.
    await new Promise((resolve) => setImmediate(resolve));
    throwIfAborted(options.signal);
    const outcome = await withAbort(probeOne(name, options.backend === name), options.signal);
    results.set(name, outcome);
    logProbe(outcome.probe, options.log);
  }
  probeResults = results;
  return results;
}

function logProbe(probe: BackendProbe, log: InitEngineOptions['log']): void {
  log?.(`engine: ${probe.name} ${probe.ok ? 'ok' : 'unavailable'} in ${probe.seconds.toFixed(2)} s${probe.ok ? '' : `: ${probe.reason}`}`);
}

/** The policy at choice time: a backend that trains, unless it does so on a software GPU adapter. */
function choosableAutomatically(probe: BackendProbe): boolean {
  return probe.ok && !heldBackReason(probe);
}

/** `named`: the user asked for this backend, so the policy does not hold it back. */
async function probeOne(name: BackendName, named: boolean): Promise<ProbeOutcome> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const found = name === 'webgpu' ? await (webgpuDiscovery ??= discoverWebgpuAdapter()) : undefined;
  const facts: Partial<BackendProbe> = {
    ...(found?.adapter ? { adapter: found.adapter } : {}),
    ...(found?.messages.length ? { driverMessages: found.messages } : {}),
  };
  const failed = (reason: string): ProbeOutcome => ({ probe: { name, ok: false, reason, seconds: seconds(), ...facts } });
  if (found && !found.adapter) return failed(found.failure);
  const refusal = found && !named ? automaticChoiceRefusal(found.adapter) : undefined;
  if (refusal) return { ...failed(refusal), declined: true };
  try {
    // The warnings (e.g. TF.js's "install our node backend" banner on first cpu use) are noise here.
    const { result: device } = await collectingWarnings((warnings) =>
      withTimeout(loadAndTrain(name, warnings), PROBE_TIMEOUT_MS),
    );
    return { probe: { name, ok: true, seconds: seconds(), ...facts }, device };
  } catch (error) {
    return failed(error instanceof BackendLoadError ? error.reason : `a training step failed: ${errorMessage(error)}`);
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
      device = loadTfjsNodeBackend(name === 'tensorflow-gpu');
      break;
    case 'webgpu':
      device = await loadWebgpuBackend();
      registerWebgpuRowKernels();
      registerWebgpuAdam();
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
  if (active === 'webgpu') {
    notes.push(`webgpu kernels replaced by gowide (one invocation per row of up to ${MAX_ROW} values, no barriers): ${registerWebgpuRowKernels().join(', ')}`);
    notes.push(`webgpu kernels added by gowide: ${registerWebgpuAdam()} (Adam, 3 dispatches per variable)`);
  }
  const composites = compositeFusedOps(TFJS_NAME[active]);
  if (composites.length > 0) notes.push(`gowide's fused ops that run as TF.js composites on ${active}: ${composites.join(', ')}`);
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
