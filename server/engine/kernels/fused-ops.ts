// gowide's fused ops and the kernel each runs where it can (the wasm backend with the native addon;
// Adam on webgpu too). Elsewhere each op runs as the TF.js ops it replaces; `gowide info` says so.
import { ATTENTION } from '../native/attention-kernels';
import { DENSE } from '../native/blas-kernels';
import { CONV } from '../native/conv-kernels';
import {
  ADAM_STEP,
  ADD_LAYER_NORM,
  ADD_RELU,
  BATCH_NORM_RELU_TRAIN,
  BATCH_NORM_TRAIN,
  GELU,
  LAYER_NORM,
  MOVING_AVERAGES,
} from '../native/elementwise-kernels';
import { getKernel } from '@tensorflow/tfjs-core';

export const FUSED_OPS: ReadonlyArray<{ op: string; kernel: string }> = [
  { op: 'dense + ReLU (training)', kernel: DENSE },
  { op: 'conv + bias + ReLU (training)', kernel: CONV },
  { op: 'attention', kernel: ATTENTION },
  { op: 'LayerNorm', kernel: LAYER_NORM },
  { op: 'add + LayerNorm', kernel: ADD_LAYER_NORM },
  { op: 'BatchNorm (training)', kernel: BATCH_NORM_TRAIN },
  { op: 'BatchNorm + ReLU (training)', kernel: BATCH_NORM_RELU_TRAIN },
  { op: 'add + ReLU', kernel: ADD_RELU },
  { op: 'GELU', kernel: GELU },
  { op: 'BatchNorm moving averages', kernel: MOVING_AVERAGES },
  { op: 'Adam', kernel: ADAM_STEP },
];

/** The fused ops that run as TF.js composites on `backendName` (their kernel is not registered there). */
export function compositeFusedOps(backendName: string): string[] {
  return FUSED_OPS.filter(({ kernel }) => getKernel(kernel, backendName) == null).map(({ op }) => op);
}
