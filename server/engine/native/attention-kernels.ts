// The core of multi-head self-attention as two kernels of our own on the TF.js wasm backend,
// computed by the gowide_blas addon (attention.c) in place on the wasm heap:
//
//   GowideAttention      inputs q, k, v: float32 [batch, sequence, heads * headDim] (the dense
//                        maps' output, heads as column blocks); attrs heads, scale. Output the
//                        context softmax(scale * q k^T) v per example and head, in q's layout.
//   GowideAttentionGrad  inputs q, k, v, dcontext; same attrs; outputs dq, dk, dv (the
//                        probabilities recomputed: see attention.c).
//
// In place of, forward, three transposes to [batch, heads, sequence, headDim] and one back, two
// batched products, the scaling and the softmax; backward, four products, the softmax's gradient
// (four kernels), the scaling's and the transposes' (../kernels/attention.ts).
import '@tensorflow/tfjs-backend-wasm';
import { getKernel, registerKernel, unregisterKernel, util } from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WASM, wasmKernelConfig } from '../kernels/registry';
import type { WasmKernelArgs } from '../kernels/registry';

export const ATTENTION = 'GowideAttention';
export const ATTENTION_GRAD = 'GowideAttentionGrad';

/** The functions of gowide_blas.node this file uses (see attention.c). */
export interface AttentionAddon {
  attention(...args: [...arrays: Float32Array[], ...sizes: AttentionSizes]): void;
  attentionGrad(...args: [...arrays: Float32Array[], ...sizes: AttentionSizes]): void;
}

/** batch, sequence, heads, headDim, scale, threads. */
type AttentionSizes = [number, number, number, number, number, number];

let addon: AttentionAddon | null = null;

const view = (backend: BackendWasm, tensor: TensorInfo): Float32Array => backend.typedArrayFromHeap(tensor) as Float32Array;

/** Threads for the attention kernels: GOWIDE_ATTENTION_THREADS, else 1. */
function attentionThreads(): number {
  const requested = Number(process.env.GOWIDE_ATTENTION_THREADS);
  return Number.isInteger(requested) && requested > 0 ? Math.min(requested, 8) : 1;
}

/** Checks q, k, v (and the named others) are float32 [batch, sequence, heads * headDim]; returns the sizes. */
function attentionSizes(kernelName: string, inputs: WasmKernelArgs['inputs'], attrs: WasmKernelArgs['attrs'], names: string[]): AttentionSizes {
  const q = inputs.q as TensorInfo;
  const heads = Number(attrs.heads);
  const [batch, sequence, inner] = q?.shape ?? [];
  const fits = (t: TensorInfo | undefined) => t != null && t.dtype === 'float32' && util.arraysEqual(t.shape, q.shape);
  if (q == null || q.shape.length !== 3 || !Number.isInteger(heads) || heads < 1 || inner % heads !== 0 || util.sizeFromShape(q.shape) === 0 || !names.every((name) => fits(inputs[name]))) {
    throw new Error(`${kernelName}: ${names.join(', ')} must be non-empty float32 [batch, sequence, heads * headDim] of one shape`);
  }
  if (addon == null) throw new Error(`${kernelName}: native addon not loaded`);
  return [batch, sequence, heads, inner / heads, Number(attrs.scale), attentionThreads()];
}

function attention({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const sizes = attentionSizes(ATTENTION, inputs, attrs, ['q', 'k', 'v']);
  const context = backend.makeOutput((inputs.q as TensorInfo).shape, 'float32');
  const arrays = [inputs.q, inputs.k, inputs.v, context].map((t) => view(backend, t as TensorInfo));
  addon!.attention(...arrays, ...sizes);
  return context;
}

function attentionGrad({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo[] {
  const sizes = attentionSizes(ATTENTION_GRAD, inputs, attrs, ['q', 'k', 'v', 'dcontext']);
  const outputs = [0, 1, 2].map(() => backend.makeOutput((inputs.q as TensorInfo).shape, 'float32'));
  const arrays = [inputs.q, inputs.k, inputs.v, inputs.dcontext, ...outputs].map((t) => view(backend, t as TensorInfo));
  addon!.attentionGrad(...arrays, ...sizes);
  return outputs;
}

const ourKernels: Array<[string, (args: WasmKernelArgs) => TensorInfo | TensorInfo[]]> = [
  [ATTENTION, attention],
  [ATTENTION_GRAD, attentionGrad],
];

/**
 * Registers the two kernels on the 'wasm' backend, computed by `addonExports` (the loaded
 * gowide_blas.node at `addonPath`). Idempotent.
 */
export function registerAttentionKernels(addonExports: object, addonPath: string): { ok: true; kernels: string[] } | { ok: false; reason: string } {
  const candidate = addonExports as Partial<AttentionAddon>;
  if (typeof candidate.attention !== 'function' || typeof candidate.attentionGrad !== 'function') {
    return { ok: false, reason: `native addon ${addonPath} has no attention kernels (stale build): run \`node scripts/build-native.mjs\`` };
  }
  addon = candidate as AttentionAddon;
  for (const [name, kernelFunc] of ourKernels) {
    if (getKernel(name, WASM) == null) registerKernel(wasmKernelConfig(name, kernelFunc as unknown as (args: never) => TensorInfo));
  }
  return { ok: true, kernels: ourKernels.map(([name]) => name) };
}

/** Removes the two kernels; returns the names removed. */
export function unregisterAttentionKernels(): string[] {
  const removed: string[] = [];
  for (const [name] of ourKernels) {
    if (getKernel(name, WASM) == null) continue;
    unregisterKernel(name, WASM);
    removed.push(name);
  }
  return removed;
}
