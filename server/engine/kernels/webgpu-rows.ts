// Sum, Mean, Max and Softmax over short rows on the webgpu backend, one invocation per output value.
//
// TF.js 4.22's webgpu kernels give every output value (every row of a softmax) a workgroup of 64
// invocations that reduce in shared memory with about ten workgroupBarrier()s, even for a row of 16
// values. On SwiftShader (the CPU Vulkan driver that runs the WebGPU tests) each such workgroup
// costs ~0.4 ms, so one attention softmax over 2,048 rows of 16 took ~850 ms and a LayerNorm's
// moments ~200 ms: 2-10 s per step of a width-16 transformer. Here one invocation loops over its
// row (or column) with no shared memory: ~10 ms for that softmax, the same values (max abs diff
// 2e-7). On a GPU it also leaves no idle lanes on short rows. Rows longer than MAX_ROW values keep
// TF.js's kernel, whose workgroups share the work of a long row.
import { backend_util, util } from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { webgpu_util, type WebGPUBackend, type WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { KernelReplacements, type OurKernel } from './registry';

export const WEBGPU = 'webgpu';

/** Longest row (values reduced into one output) that one invocation takes on. */
export const MAX_ROW = 1024;

const WORKGROUP: [number, number, number] = [64, 1, 1];

interface WebgpuKernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: WebGPUBackend;
  attrs: NamedAttrMap;
}

type Reduction = 'sum' | 'mean' | 'max';

/** A program whose invocation `index` writes output value `index` (flat dispatch over the output). */
function flatProgram(shaderKey: string, outputShape: number[], uniforms: string, body: string): WebGPUProgram {
  const dispatchLayout = webgpu_util.flatDispatchLayout(outputShape);
  return {
    variableNames: ['x'],
    outputShape,
    shaderKey,
    size: true,
    uniforms,
    dispatchLayout,
    dispatch: webgpu_util.computeDispatch(dispatchLayout, outputShape, WORKGROUP),
    workgroupSize: WORKGROUP,
    getUserCode: () => `
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        ${body}
      }`,
  };
}

/**
 * x viewed as [outer, reduced, inner] (the reduced axes contiguous): output (o, i) at index
 * o * inner + i reduces x[(o * reduced + r) * inner + i] over r.
 */
function reductionProgram(kind: Reduction, outputShape: number[]): WebGPUProgram {
  const start = kind === 'max' ? 'f32(x[base])' : '0.0';
  // TF.js's max: a NaN anywhere makes the result NaN.
  const step = kind === 'max' ? 'if (isnan(value) || isnan(best)) { best = uniforms.NAN; } else { best = max(best, value); }' : 'best = best + value;';
  const finish = kind === 'mean' ? 'best / f32(uniforms.reduced)' : 'best';
  return flatProgram(
    `gowide_rows_${kind}`,
    outputShape,
    'reduced : i32, inner : i32,',
    `let outer = index / uniforms.inner;
        let base = outer * uniforms.reduced * uniforms.inner + index % uniforms.inner;
        var best = ${start};
        for (var r = 0; r < uniforms.reduced; r++) {
          let value = f32(x[base + r * uniforms.inner]);
          ${step}
        }
        setOutputAtIndex(index, ${finish});`,
  );
}

/** Softmax over the last axis of x [rows, cols]: invocation `index` writes element `index`, reading its row. */
function softmaxProgram(shape: number[]): WebGPUProgram {
  return flatProgram(
    'gowide_rows_softmax',
    shape,
    'cols : i32,',
    `let start = (index / uniforms.cols) * uniforms.cols;
        var top = f32(x[start]);
        for (var c = 1; c < uniforms.cols; c++) { top = max(top, f32(x[start + c])); }
        var total = 0.0;
        for (var c = 0; c < uniforms.cols; c++) { total = total + exp(f32(x[start + c]) - top); }
        setOutputAtIndex(index, exp(f32(x[index]) - top) / total);`,
  );
}

/** outer, reduced and inner sizes when `axes` of shape are contiguous; null otherwise. */
function contiguousSplit(shape: number[], axes: number[]): [number, number, number] | null {
  const sorted = [...axes].sort((a, b) => a - b);
  if (sorted.some((axis, i) => i > 0 && axis !== sorted[i - 1] + 1)) return null;
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  const size = (from: number, to: number) => util.sizeFromShape(shape.slice(from, to));
  return [size(0, first), size(first, last + 1), size(last + 1, shape.length)];
}

function reductionKernel(kernelName: string, kind: Reduction, axisAttr: string): OurKernel<WebgpuKernelArgs> {
  const kernelFunc = (args: WebgpuKernelArgs): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    const axes = util.parseAxisParam(attrs[axisAttr] as number | number[], x.shape);
    const split = x.dtype === 'float32' && axes.length > 0 && x.shape.length > 0 ? contiguousSplit(x.shape, axes) : null;
    if (split == null || split[1] > MAX_ROW || split[1] === 0 || util.sizeFromShape(x.shape) === 0) {
      return replacements.runFallback(kernelName, args as never);
    }
    const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, [...axes].sort((a, b) => a - b));
    const shape = attrs.keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    const [, reduced, inner] = split;
    const uniforms = [
      { type: 'int32', data: [reduced] },
      { type: 'int32', data: [inner] },
    ];
    return backend.runWebGPUProgram(reductionProgram(kind, shape), [x], 'float32', uniforms);
  };
  return { kernelName, kernelFunc };
}

const softmaxKernel: OurKernel<WebgpuKernelArgs> = {
  kernelName: 'Softmax',
  kernelFunc: (args) => {
    const { inputs, backend } = args;
    const { logits } = inputs;
    const cols = logits.shape[logits.shape.length - 1] ?? 0;
    if (logits.dtype !== 'float32' || cols === 0 || cols > MAX_ROW || util.sizeFromShape(logits.shape) === 0) {
      return replacements.runFallback('Softmax', args as never);
    }
    return backend.runWebGPUProgram(softmaxProgram(logits.shape), [logits], 'float32', [{ type: 'int32', data: [cols] }]);
  },
};

const replacements = new KernelReplacements<WebgpuKernelArgs>(
  [reductionKernel('Sum', 'sum', 'axis'), reductionKernel('Mean', 'mean', 'axis'), reductionKernel('Max', 'max', 'reductionIndices'), softmaxKernel],
  WEBGPU,
);

/** Registers the kernels above in place of the webgpu backend's (idempotent); returns their names. */
export function registerWebgpuRowKernels(): string[] {
  return replacements.installAll();
}

/** Puts TF.js's kernels back (side-by-side measurements); returns their names. */
export function restoreWebgpuRowKernels(): string[] {
  return replacements.restoreAll();
}

/** The kernel functions TF.js had, for tests comparing ours with them. */
export function webgpuFallback(kernelName: string): KernelFunc | undefined {
  return replacements.fallback(kernelName);
}
