// Multi-head self-attention's core, softmax(scale * q k^T) v per example and head, as one op with
// its own gradient, for the wasm backend with the native addon (GowideAttention and
// GowideAttentionGrad, ../native/attention-kernels.ts). q, k and v stay in the dense maps' layout
// [batch, sequence, heads * headDim]; TF.js's ops would transpose each to [batch, heads, sequence,
// headDim], run two batched products, the scaling and the softmax, and differentiate through each
// (~25 kernels forward and back per layer). The same maths; float32 rounding may differ in the
// last bits (the softmax's gradient is summed in another order).
import * as tf from '@tensorflow/tfjs';
import { getGradient, registerGradient } from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { ATTENTION, ATTENTION_GRAD } from '../native/attention-kernels';
import { wasmKernelActive } from './registry';

const attentionGrad: GradConfig = {
  kernelName: ATTENTION,
  inputsToSave: ['q', 'k', 'v'],
  gradFunc: (dcontext, saved, attrs: NamedAttrMap) => {
    const [q, k, v] = saved;
    // All three at once, here: a closure runs inside its own tidy, which would dispose the others.
    const [dq, dk, dv] = tf.engine().runKernel(ATTENTION_GRAD, { q, k, v, dcontext: dcontext as Tensor }, attrs) as Tensor[];
    return { q: () => dq, k: () => dk, v: () => dv };
  },
};

/**
 * softmax(scale * q_h k_h^T) v_h for each example and head h (a block of headDim columns) of
 * q, k, v float32 [batch, sequence, heads * headDim]; the result in the same layout.
 * Differentiable in q, k and v. Null where the fused op cannot run (another backend, no addon,
 * other shapes or dtypes): then use TF.js's ops.
 */
export function fusedAttention(q: Tensor, k: Tensor, v: Tensor, heads: number, scale: number): Tensor | null {
  if (!wasmKernelActive(ATTENTION) || !wasmKernelActive(ATTENTION_GRAD)) return null;
  const fits = (t: Tensor) => t.dtype === 'float32' && tf.util.arraysEqual(t.shape, q.shape);
  if (q.rank !== 3 || q.size === 0 || (q.shape[2] ?? 0) % heads !== 0 || ![q, k, v].every(fits)) return null;
  if (getGradient(ATTENTION) == null) registerGradient(attentionGrad);
  return tf.engine().runKernel(ATTENTION, { q, k, v }, { heads, scale }) as Tensor;
}
