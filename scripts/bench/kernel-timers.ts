// Times the kernels registered on the wasm backend by wrapping each one (tf.profile overflows the
// stack on the larger models). Only top-level calls are timed: a composed kernel's inner kernel
// calls count in its own time. Used by scripts/bench-conv.ts --profile and scripts/bench-profile.ts.
import { getKernelsForBackend, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

export interface KernelTime {
  ms: number;
  calls: number;
}

export interface KernelTimerOptions {
  /** The row a call is counted in (default: the kernel name). */
  key?: (kernelName: string, inputs: Record<string, TensorInfo | undefined>) => string;
  /** Milliseconds now (default: wall time, performance.now). */
  clock?: () => number;
}

/** "name[shape] name[shape]" of a kernel's inputs. */
export function inputShapes(inputs: Record<string, TensorInfo | undefined>): string {
  return Object.entries(inputs)
    .filter(([, tensor]) => tensor != null)
    .map(([name, tensor]) => `${name}[${tensor!.shape.join(',')}]`)
    .join(' ');
}

/** Wraps every wasm kernel with a timer until stop(); `times` collects the rows. */
export function timeWasmKernels(options: KernelTimerOptions = {}): { times: Map<string, KernelTime>; stop(): void } {
  const key = options.key ?? ((kernelName: string) => kernelName);
  const clock = options.clock ?? (() => performance.now());
  const times = new Map<string, KernelTime>();
  const wrapped: KernelConfig[] = getKernelsForBackend('wasm');
  let depth = 0;
  for (const config of wrapped) {
    const inner = config.kernelFunc;
    const timed = ((args: Parameters<KernelFunc>[0]) => {
      if (depth > 0) return inner(args);
      depth++;
      const start = clock();
      try {
        return inner(args);
      } finally {
        depth--;
        const row = key(config.kernelName, args.inputs as Record<string, TensorInfo | undefined>);
        const entry = times.get(row) ?? { ms: 0, calls: 0 };
        entry.ms += clock() - start;
        entry.calls++;
        times.set(row, entry);
      }
    }) as KernelFunc;
    unregisterKernel(config.kernelName, 'wasm');
    registerKernel({ ...config, kernelFunc: timed });
  }
  return {
    times,
    stop: () => {
      for (const config of wrapped) {
        unregisterKernel(config.kernelName, 'wasm');
        registerKernel(config);
      }
    },
  };
}
