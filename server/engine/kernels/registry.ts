// Registering our kernels on a TF.js backend (mostly wasm) in place of the ones there, keeping each
// replaced kernel as the fallback for what ours does not cover, and putting it back on request.
// Shared by wasm-gradients.ts (XNNPACK compositions), ../native/blas-kernels.ts and
// ../native/conv-kernels.ts (the OpenBLAS addon), each with its own WasmKernelReplacements, so
// whichever registers last wins and falls back on the kernel it found; and by webgpu-rows.ts.

import '@tensorflow/tfjs-backend-wasm'; // registers the wasm backend and its kernels first
import { getBackend, getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export const WASM = 'wasm';

/** True when the wasm backend is active and has the kernel `name` (ours: the native addon loaded). */
export function wasmKernelActive(name: string): boolean {
  return getBackend() === WASM && getKernel(name, WASM) != null;
}

/** What the engine passes a wasm kernel. Input: TensorInfo where every declared input is present. */
export interface WasmKernelArgs<Input extends TensorInfo | undefined = TensorInfo | undefined> {
  inputs: Record<string, Input>;
  backend: BackendWasm;
  attrs: NamedAttrMap;
}

/** One of our kernels: its name and the function computing it. */
export interface OurKernel<Args = never> {
  kernelName: string;
  kernelFunc: (args: Args) => TensorInfo;
}

/**
 * The wasm KernelConfig for one of our kernels. A replacement keeps the replaced kernel's
 * setup/dispose functions: the engine runs setupFunc when the backend initializes, and the
 * replaced kernel (our fallback) needs it (it binds its C function there).
 */
export function wasmKernelConfig<Args>(kernelName: string, kernelFunc: (args: Args) => TensorInfo, replaced?: KernelConfig): KernelConfig {
  return {
    kernelName,
    backendName: WASM,
    kernelFunc: kernelFunc as unknown as KernelFunc,
    setupFunc: replaced?.setupFunc,
    disposeFunc: replaced?.disposeFunc,
  };
}

/** Runs a kernel function with the engine's arguments (no engine bookkeeping, no tape). */
export function callKernel(kernelFunc: KernelFunc, args: WasmKernelArgs<TensorInfo | undefined>): TensorInfo {
  return kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
}

/** A set of our kernels that replace one backend's, each with the kernel it replaced as fallback. */
export class KernelReplacements<Args = never> {
  private readonly fallbacks = new Map<string, KernelFunc>();
  private readonly ours: Set<unknown>;

  constructor(
    private readonly kernels: ReadonlyArray<OurKernel<Args>>,
    readonly backendName: string,
  ) {
    this.ours = new Set<unknown>(kernels.map((kernel) => kernel.kernelFunc));
  }

  /**
   * Registers one of the kernels in place of what is registered under its name, keeping that as
   * the fallback. Returns 'ours' (already registered: nothing done), 'absent' (nothing registered
   * and whenAbsent 'skip': nothing done) or 'registered'.
   */
  install(kernel: OurKernel<Args>, whenAbsent: 'register' | 'skip'): 'ours' | 'absent' | 'registered' {
    const existing = getKernel(kernel.kernelName, this.backendName);
    if (existing != null && this.ours.has(existing.kernelFunc)) return 'ours';
    if (existing == null && whenAbsent === 'skip') return 'absent';
    if (existing != null) {
      this.fallbacks.set(kernel.kernelName, existing.kernelFunc);
      unregisterKernel(kernel.kernelName, this.backendName);
    }
    registerKernel({ ...wasmKernelConfig(kernel.kernelName, kernel.kernelFunc, existing ?? undefined), backendName: this.backendName });
    return 'registered';
  }

  /**
   * Registers every kernel that has one to replace (a name with nothing registered is left
   * alone); idempotent. Returns the names now ours, in order.
   */
  installAll(): string[] {
    return this.kernels.filter((kernel) => this.install(kernel, 'skip') !== 'absent').map((kernel) => kernel.kernelName);
  }

  /** The kernel that ours replaced under this name, if any. */
  fallback(kernelName: string): KernelFunc | undefined {
    return this.fallbacks.get(kernelName);
  }

  /** Runs the replaced kernel with the same arguments (for what ours does not cover). */
  runFallback(kernelName: string, args: WasmKernelArgs<TensorInfo | undefined>): TensorInfo {
    const fallback = this.fallbacks.get(kernelName);
    if (fallback == null) throw new Error(`${kernelName}: no fallback kernel`);
    return callKernel(fallback, args);
  }

  /** Puts back the replaced kernels where ours are still registered; returns their names. */
  restoreAll(): string[] {
    const restored: string[] = [];
    for (const { kernelName } of this.kernels) {
      const current = getKernel(kernelName, this.backendName);
      const fallback = this.fallbacks.get(kernelName);
      if (current == null || fallback == null || !this.ours.has(current.kernelFunc)) continue;
      unregisterKernel(kernelName, this.backendName);
      registerKernel({ ...current, kernelFunc: fallback });
      this.fallbacks.delete(kernelName);
      restored.push(kernelName);
    }
    return restored;
  }
}

/** Our kernels that replace the wasm backend's. */
export class WasmKernelReplacements<Args = never> extends KernelReplacements<Args> {
  constructor(kernels: ReadonlyArray<OurKernel<Args>>) {
    super(kernels, WASM);
  }
}
