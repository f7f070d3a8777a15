// GroupOptimizer's Adam step (ADAM_STEP) on the webgpu backend: three programs per variable (its new
// first moment, second moment and value, each recomputing the moments it needs) in place of the
// 14 TF.js ops of the composite. Every dispatch costs about a millisecond on SwiftShader, where Adam
// was half of a training step's dispatches (a 2-block transformer of width 8: ~420 of ~900). The
// float operations are the composite's, in its order (see ../native/adam.c).
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { webgpu_util, type WebGPUBackend, type WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { ADAM_STEP } from '../native/elementwise-kernels';
import { KernelReplacements, type OurKernel } from './registry';
import { WEBGPU } from './webgpu-rows';

const WORKGROUP: [number, number, number] = [64, 1, 1];

const UNIFORMS = ['b1', 'oneB1', 'b2', 'oneB2', 'c1', 'c2', 'epsilon', 'rate', 'decay'] as const;

const FIRST_MOMENT = 'let mi = f32(m[index]) * uniforms.b1 + f32(g[index]) * uniforms.oneB1;';
const SECOND_MOMENT = 'let gi = f32(g[index]); let vi = f32(v[index]) * uniforms.b2 + (gi * gi) * uniforms.oneB2;';

/** Per output: the inputs it reads (a program binds only what its shader uses) and its code. */
const OUTPUTS = {
  x: {
    inputs: ['x', 'g', 'm', 'v'],
    code: `${FIRST_MOMENT} ${SECOND_MOMENT}
        let xi = f32(x[index]);
        var update = (mi / uniforms.c1) / (sqrt(vi / uniforms.c2) + uniforms.epsilon);
        if (uniforms.decay != 0.0) { update = update + xi * uniforms.decay; }
        setOutputAtIndex(index, xi - update * uniforms.rate);`,
  },
  m: { inputs: ['g', 'm'], code: `${FIRST_MOMENT} setOutputAtIndex(index, mi);` },
  v: { inputs: ['g', 'v'], code: `${SECOND_MOMENT} setOutputAtIndex(index, vi);` },
} as const;

function adamProgram(output: keyof typeof OUTPUTS, shape: number[]): WebGPUProgram {
  const dispatchLayout = webgpu_util.flatDispatchLayout(shape);
  return {
    variableNames: [...OUTPUTS[output].inputs],
    outputShape: shape,
    shaderKey: `gowide_adam_${output}`,
    size: true,
    uniforms: UNIFORMS.map((name) => `${name} : f32,`).join(' '),
    dispatchLayout,
    dispatch: webgpu_util.computeDispatch(dispatchLayout, shape, WORKGROUP),
    workgroupSize: WORKGROUP,
    getUserCode: () => `
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        ${OUTPUTS[output].code}
      }`,
  };
}

interface AdamArgs {
  inputs: Record<string, TensorInfo>;
  backend: WebGPUBackend;
  attrs: Record<string, number>;
}

/** Inputs and attributes as the native kernel's (ADAM_STEP); outputs the new x, m and v. */
function adamStep({ inputs, backend, attrs }: AdamArgs): TensorInfo[] {
  const tensors = OUTPUTS.x.inputs.map((name) => inputs[name]);
  const shape = inputs.x?.shape;
  if (tensors.some((t) => t == null || t.dtype !== 'float32' || !util.arraysEqual(t.shape, shape))) {
    throw new Error(`${ADAM_STEP}: x, g, m and v must be float32 tensors of one shape`);
  }
  const values: Record<(typeof UNIFORMS)[number], number> = {
    b1: attrs.beta1,
    oneB1: 1 - attrs.beta1,
    b2: attrs.beta2,
    oneB2: 1 - attrs.beta2,
    c1: attrs.c1,
    c2: attrs.c2,
    epsilon: attrs.epsilon,
    rate: attrs.rate,
    decay: attrs.decay ?? 0,
  };
  const uniforms = UNIFORMS.map((name) => ({ type: 'float32', data: [values[name]] }));
  return (['x', 'm', 'v'] as const).map((output) =>
    backend.runWebGPUProgram(adamProgram(output, shape), OUTPUTS[output].inputs.map((name) => inputs[name]), 'float32', uniforms),
  );
}

const adamKernel: OurKernel<AdamArgs> = { kernelName: ADAM_STEP, kernelFunc: adamStep as unknown as OurKernel<AdamArgs>['kernelFunc'] };
const registration = new KernelReplacements<AdamArgs>([adamKernel], WEBGPU);

/** Registers ADAM_STEP on the webgpu backend (idempotent); returns its name. */
export function registerWebgpuAdam(): string {
  registration.install(adamKernel, 'register');
  return ADAM_STEP;
}
