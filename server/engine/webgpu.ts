// The WebGPU backend on Dawn (the `webgpu` npm package). @tensorflow/tfjs-backend-webgpu registers
// itself only when navigator.gpu exists at import time, which is never true in Node, so we request the
// adapter and device ourselves and register the backend with them.
import * as tf from '@tensorflow/tfjs';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { execFile, type ExecFileException } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPU_TRAINING_LIMITS, type GpuAdapterInfo } from '../protocol';
import { pollDawnEventsByTimer } from './dawn-polling';
import { BackendLoadError, errorMessage } from './errors';
import { adapterSummary, describeAdapter } from './webgpu-adapter';

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

/** The JSON line webgpu-discover.ts prints. */
export interface WebgpuDiscoveryReply {
  adapter?: GpuAdapterInfo;
}

/** What the discovery child found: the adapter, or why there is none, and what Dawn printed. */
export type WebgpuDiscovery = ({ adapter: GpuAdapterInfo; failure?: never } | { adapter?: never; failure: string }) & {
  /** Dawn's and the Vulkan drivers' stderr lines, captured. */
  messages: string[];
};

/** Discovery starts Node and Dawn (about 0.1-0.2 s); a child still running after this is stuck. */
const DISCOVERY_TIMEOUT_MS = 20_000;

/**
 * Asks Dawn, in a child process, which adapter it would offer. Dawn's native code prints warnings
 * on fd 2 ("XDG_RUNTIME_DIR is invalid", Mesa lavapipe's "Vulkan shaderUniform*ArrayDynamicIndexing
 * required"), which Node cannot redirect in-process: the child's stderr is captured instead.
 */
export async function discoverWebgpuAdapter(): Promise<WebgpuDiscovery> {
  // On Linux Dawn reaches GPUs only through Vulkan: without its loader, say so without starting Dawn.
  if (!vulkanLoaderFound()) return { failure: noAdapterReason([]), messages: [] };
  let dawnEntry: string;
  try {
    dawnEntry = require.resolve('webgpu');
  } catch (error) {
    return { failure: dawnMissingReason(error), messages: [] };
  }
  useQuietRuntimeDir();
  const { stdout, stderr, error } = await runDiscoveryChild(dawnEntry);
  const messages = driverMessages(stderr);
  if (error) {
    const how = error.killed ? `did not finish within ${DISCOVERY_TIMEOUT_MS / 1000} s` : `failed (${error.signal ?? `exit code ${error.code}`})`;
    return { failure: `Dawn's adapter discovery ${how}${saying(messages)}`, messages };
  }
  const reply = parseReply(stdout);
  if (!reply) return { failure: `Dawn's adapter discovery printed no description${saying(messages)}`, messages };
  if (!reply.adapter) return { failure: noAdapterReason(messages), messages };
  return { adapter: reply.adapter, messages };
}

function runDiscoveryChild(dawnEntry: string): Promise<{ stdout: string; stderr: string; error: ExecFileException | null }> {
  // Bundled, the script sits beside dist/cli.js; from source (tests, tsx scripts) tsx runs the .ts
  // file, resolved from the project folder.
  const bundled = join(__dirname, 'webgpu-discover.js');
  const fromSource = !existsSync(bundled);
  const args = fromSource ? ['--import', 'tsx', join(__dirname, 'webgpu-discover.ts')] : [bundled];
  const cwd = fromSource ? join(__dirname, '..', '..') : undefined;
  return new Promise((resolve) => {
    execFile(process.execPath, [...args, dawnEntry], { cwd, timeout: DISCOVERY_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) =>
      resolve({ stdout, stderr, error }),
    );
  });
}

function parseReply(stdout: string): WebgpuDiscoveryReply | undefined {
  try {
    return JSON.parse(stdout.trim().split('\n').pop()!) as WebgpuDiscoveryReply;
  } catch {
    return undefined;
  }
}

/** Warnings as one line each: continuation lines ("- While ...") joined, source locations ("at ...") dropped. */
function driverMessages(stderr: string): string[] {
  const messages: string[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('at ')) continue;
    if (line.startsWith('- ') && messages.length > 0) messages[messages.length - 1] += ` ${line}`;
    else messages.push(line);
  }
  return [...new Set(messages)];
}

function saying(messages: string[]): string {
  return messages.length > 0 ? `; Dawn said: ${messages.join(' | ')}` : '';
}

let quietRuntimeDir: string | undefined;

/**
 * Dawn's Vulkan start-up prints "XDG_RUNTIME_DIR is invalid or not set" when that folder is missing
 * (services, containers, ssh without a login session): point it at a private empty folder (mode 0700).
 */
function useQuietRuntimeDir(): void {
  if (process.platform !== 'linux' || quietRuntimeDir) return;
  const current = process.env.XDG_RUNTIME_DIR;
  if (current && isDirectory(current)) return;
  const dir = mkdtempSync(join(tmpdir(), 'gowide-runtime-'));
  quietRuntimeDir = dir;
  process.env.XDG_RUNTIME_DIR = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

let registeredDevice: string | undefined;

/**
 * Makes sure the "webgpu" backend is registered in this process; returns the device text or throws
 * why not. Call it only for an adapter the policy allows (or the user named): Dawn then runs here.
 */
export async function loadWebgpuBackend(): Promise<string> {
  if (registeredDevice) return registeredDevice;
  let dawn: DawnModule;
  try {
    // The package is ESM only, hence import() rather than require.
    dawn = (await import('webgpu')) as unknown as DawnModule;
  } catch (error) {
    throw new BackendLoadError(dawnMissingReason(error));
  }
  useQuietRuntimeDir();
  pollDawnEventsByTimer();
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new BackendLoadError(noAdapterReason([]));

  // The backend reads GPUBufferUsage, GPUMapMode ... from the global scope, as in a browser, and its
  // constructor refuses to start unless navigator.gpu exists (Node 20 has no navigator at all).
  Object.assign(globalThis, dawn.globals);
  exposeNavigatorGpu(gpu);
  const requiredLimits = Object.fromEntries(GPU_TRAINING_LIMITS.map((name) => [name, adapter.limits[name]]));
  const device = await adapter.requestDevice({ requiredLimits });
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info));
  registeredDevice = `GPU: ${adapterSummary(describeAdapter(adapter))}, WebGPU (Dawn)`;
  return registeredDevice;
}

function dawnMissingReason(error: unknown): string {
  return `the "webgpu" package (Dawn for Node) did not load: ${errorMessage(error).split('\n')[0]}. Run "npm install webgpu" in the gowide folder`;
}

function exposeNavigatorGpu(gpu: GPU): void {
  const scope = globalThis as { navigator?: { gpu?: unknown } };
  if (scope.navigator?.gpu) return;
  const navigator = { ...(scope.navigator ?? {}), gpu };
  Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true, writable: true });
}

const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/lib64', '/lib'];

function vulkanLoaderFound(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIBRARY_DIRS];
  return dirs.some((dir) => existsSync(join(dir, 'libvulkan.so.1')));
}

function noAdapterReason(messages: string[]): string {
  if (!vulkanLoaderFound()) {
    return (
      'libvulkan.so.1 is missing, so Dawn cannot reach a GPU: install the Vulkan loader (Debian: ' +
      '"apt-get install libvulkan1") and your GPU driver\'s Vulkan ICD (NVIDIA: the driver\'s ' +
      'libnvidia-gl / nvidia-vulkan-icd package)'
    );
  }
  return (
    'no WebGPU adapter found: Dawn loaded Vulkan but found no usable GPU. Check that a GPU is present ' +
    `and its Vulkan ICD is installed ("vulkaninfo --summary" lists it)${saying(messages)}`
  );
}
