// The WebGPU backend on Dawn (the `webgpu` npm package). @tensorflow/tfjs-backend-webgpu registers
// itself only when navigator.gpu exists at import time, which is never true in Node, so we request the
// adapter and device ourselves and register the backend with them.
import * as tf from '@tensorflow/tfjs';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BackendLoadError, errorMessage } from './errors';

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

let registeredDevice: string | undefined;

/** Makes sure the "webgpu" backend is registered; returns the device text or throws why not. */
export async function loadWebgpuBackend(): Promise<string> {
  if (registeredDevice) return registeredDevice;
  let dawn: DawnModule;
  try {
    // The package is ESM only, hence import() rather than require.
    dawn = (await import('webgpu')) as unknown as DawnModule;
  } catch (error) {
    throw new BackendLoadError(
      `the "webgpu" package (Dawn for Node) did not load: ${errorMessage(error).split('\n')[0]}. Run "npm install webgpu" in the gowide folder`,
    );
  }
  // On Linux Dawn reaches GPUs only through Vulkan: without its loader, say so before Dawn prints
  // its own warning on stderr.
  if (!vulkanLoaderFound()) throw new BackendLoadError(noAdapterReason());
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new BackendLoadError(noAdapterReason());

  // The backend reads GPUBufferUsage, GPUMapMode ... from the global scope, as in a browser, and its
  // constructor refuses to start unless navigator.gpu exists (Node 20 has no navigator at all).
  Object.assign(globalThis, dawn.globals);
  exposeNavigatorGpu(gpu);
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  const info = adapter.info;
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, info));
  const name = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ');
  registeredDevice = `GPU: ${name || 'WebGPU adapter'}, WebGPU (Dawn)`;
  return registeredDevice;
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

function noAdapterReason(): string {
  if (!vulkanLoaderFound()) {
    return (
      'libvulkan.so.1 is missing, so Dawn cannot reach a GPU: install the Vulkan loader (Debian: ' +
      '"apt-get install libvulkan1") and your GPU driver\'s Vulkan ICD (NVIDIA: the driver\'s ' +
      'libnvidia-gl / nvidia-vulkan-icd package)'
    );
  }
  return (
    'no WebGPU adapter found: Dawn loaded Vulkan but found no usable GPU. Check that a GPU is present ' +
    'and its Vulkan ICD is installed ("vulkaninfo --summary" lists it)'
  );
}
