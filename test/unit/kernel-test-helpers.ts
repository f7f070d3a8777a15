// Shared by the wasm kernel tests (kernels-wasm, native-blas, native-conv): deterministic host
// data, running one kernel on the cpu or wasm backend, comparing the two, skipping without the
// native addon, and counting the addon's calls.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerFastGradients } from '../../server/engine/kernels/gradients';
import { registerMissingWasmKernels } from '../../server/engine/kernels/wasm-gradients';
import { loadBlasAddon, registerNativeBlasKernels } from '../../server/engine/native/blas-kernels';

/** Where the wasm backend's .wasm files are (for setWasmPaths). */
export const wasmDist = path.resolve(__dirname, '../../node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/';

/** GOWIDE_REQUIRE_NATIVE=1 (CI, where the addon is built): a missing addon fails instead of skipping. */
export const requireNative = process.env.GOWIDE_REQUIRE_NATIVE === '1';

/** Deterministic pseudo-random numbers in [-1, 1) (mulberry32), so failures reproduce. */
export function randomValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return values;
}

/** Host data of one kernel input; dtype defaults to float32. */
export interface HostTensor {
  values: Float32Array | Int32Array;
  shape: number[];
  dtype?: 'float32' | 'int32';
}

/** Random float32 host data of the given shape, each value shifted by offset. */
export function hostFloat(shape: number[], seed: number, offset = 0): HostTensor {
  const values = randomValues(shape.reduce((a, b) => a * b, 1), seed);
  return { values: offset === 0 ? values : values.map((v) => v + offset), shape, dtype: 'float32' };
}

/** Runs a kernel on one backend from host data, returning the host result and its shape; checks for leaks. */
export async function runKernelOn(
  backendName: 'wasm' | 'cpu',
  kernelName: string,
  inputs: Record<string, HostTensor>,
  attrs: Record<string, unknown>,
): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backendName);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, host] of Object.entries(inputs)) {
    tensors[name] = tf.tensor(host.values, host.shape, host.dtype ?? 'float32');
  }
  const before = tf.memory().numTensors;
  const out = tf.engine().runKernel(kernelName, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { values: Float32Array.from(out.dataSync()), shape: out.shape };
  out.dispose();
  Object.values(tensors).forEach((tensor) => tensor.dispose());
  assert.equal(tf.memory().numTensors, before - Object.keys(tensors).length, 'tensor leak');
  return result;
}

export interface KernelComparison {
  /** max |actual - expected| <= relativeTolerance * max |expected| + absoluteFloor. */
  assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, relativeTolerance?: number): void;
  /** Runs the kernel on cpu, then on wasm, and compares shapes and values (default tolerance). */
  compareKernel(
    kernelName: string,
    inputs: Record<string, HostTensor>,
    attrs: Record<string, unknown>,
    label: string,
  ): Promise<void>;
}

/**
 * The cpu-vs-wasm comparison of one test file: `absoluteFloor` is the tiny absolute allowance
 * (for all-zero results), `actualName` names the wasm side in failure messages.
 */
export function kernelComparison(options: { absoluteFloor: number; actualName: string }): KernelComparison {
  const { absoluteFloor, actualName } = options;
  const assertClose: KernelComparison['assertClose'] = (actual, expected, label, relativeTolerance = 1e-4) => {
    assert.equal(actual.length, expected.length, `${label}: length`);
    let maxReference = 0;
    let maxDifference = 0;
    for (let i = 0; i < expected.length; i++) {
      maxReference = Math.max(maxReference, Math.abs(expected[i]));
      maxDifference = Math.max(maxDifference, Math.abs(actual[i] - expected[i]));
    }
    assert.ok(
      maxDifference <= relativeTolerance * maxReference + absoluteFloor,
      `${label}: max |${actualName} - cpu| = ${maxDifference} with max |cpu| = ${maxReference}`,
    );
  };
  const compareKernel: KernelComparison['compareKernel'] = async (kernelName, inputs, attrs, label) => {
    const reference = await runKernelOn('cpu', kernelName, inputs, attrs);
    const actual = await runKernelOn('wasm', kernelName, inputs, attrs);
    assert.deepEqual(actual.shape, reference.shape, `${label}: shape`);
    assertClose(actual.values, reference.values, label);
  };
  return { assertClose, compareKernel };
}

/**
 * Sets up the wasm backend as the engine does (gowide's gradients, the kernels TF.js lacks, the
 * native kernels) and makes it the active backend. Returns null when the native kernels `needed`
 * are registered, else why not (for skipWithoutNative).
 */
export async function nativeWasmBackend(needed: readonly string[]): Promise<string | null> {
  setWasmPaths(wasmDist);
  registerFastGradients();
  registerMissingWasmKernels();
  const registration = registerNativeBlasKernels();
  await tf.setBackend('wasm');
  await tf.ready();
  if (!registration.ok) return registration.reason;
  const missing = needed.filter((name) => !registration.kernels.includes(name));
  return missing.length > 0 ? `${missing.join(', ')} not registered` : null;
}

/**
 * For a test that needs the native kernels: false when `reason` is null (they are there); else
 * skips the test with the reason and returns true, or fails it under GOWIDE_REQUIRE_NATIVE=1.
 */
export function skipWithoutNative(t: TestContext, reason: string | null): boolean {
  if (reason == null) return false;
  if (requireNative) assert.fail(`GOWIDE_REQUIRE_NATIVE=1 but ${reason}`);
  t.skip(reason);
  return true;
}

/**
 * Counts the calls of the named addon functions while fn runs (the addon object is shared with
 * the kernels, so wrapping its functions sees every call); the originals are put back after.
 */
export async function countAddonCalls<Name extends string>(
  names: readonly Name[],
  fn: () => Promise<void> | void,
): Promise<Record<Name, number>> {
  const load = loadBlasAddon();
  if (!load.ok) throw new Error(load.reason);
  const addon = load.addon as unknown as Record<string, (...args: unknown[]) => void>;
  const originals = new Map(names.map((name) => [name, addon[name]]));
  const counts = Object.fromEntries(names.map((name) => [name, 0])) as Record<Name, number>;
  for (const name of names) {
    const original = originals.get(name)!;
    addon[name] = (...args: unknown[]) => {
      counts[name]++;
      original.apply(addon, args);
    };
  }
  try {
    await fn();
  } finally {
    for (const name of names) addon[name] = originals.get(name)!;
  }
  return counts;
}

/** A tf.layers model's loss and weight gradients on one backend, from fixed host weights and data. */
export async function layersGradientsOn(
  backendName: 'cpu' | 'wasm',
  buildModel: () => tf.LayersModel,
  weightValues: Array<{ shape: number[]; values: Float32Array }>,
  xValues: Float32Array,
  xShape: number[],
  labels: number[],
  classes: number,
): Promise<{ loss: number; grads: Float32Array[] }> {
  await tf.setBackend(backendName);
  const model = buildModel();
  model.setWeights(weightValues.map((w) => tf.tensor(w.values, w.shape)));
  const x = tf.tensor(xValues, xShape);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar);
  const names = model.trainableWeights.map((w) => (w.read() as tf.Variable).name);
  const result = { loss: value.dataSync()[0], grads: names.map((name) => Float32Array.from(grads[name].dataSync())) };
  tf.dispose([x, y, value, ...Object.values(grads)]);
  model.dispose();
  return result;
}

/** One NHWC conv of the comparison grids: x [batch, height, width, inChannels], a square filter. */
export interface ConvCase {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: 'same' | 'valid';
}

/** Every kernel size (1, 3, 5), stride (1, 2) and padding for each input shape, then the extra cases as they are. */
export function convCases(shapes: Omit<ConvCase, 'kernel' | 'stride' | 'pad'>[], extra: ConvCase[]): ConvCase[] {
  const cases: ConvCase[] = [];
  for (const kernel of [1, 3, 5]) {
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) cases.push(...shapes.map((shape) => ({ ...shape, kernel, stride, pad })));
    }
  }
  return [...cases, ...extra];
}

export function describeCase(c: ConvCase): string {
  return `x[${c.batch},${c.height},${c.width},${c.inChannels}] k${c.kernel} s${c.stride} ${c.pad} co${c.outChannels}`;
}

/** Output size of a conv or pool along one axis. */
export function outSize(size: number, kernel: number, stride: number, pad: 'same' | 'valid'): number {
  return pad === 'same' ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
}

/** One training step of `layers` stacked in a tf.model on the active backend, from fixed weights
 *  and data: the loss sum(y^2) and every weight's gradient, the kernels the step ran (forward and
 *  backward), and each layer's class name and config (without its initialiser, which LayerFactory
 *  seeds). */
export async function layerStackStep(layers: tf.layers.Layer[], inputShape: number[], batch: number): Promise<{ values: Float32Array[]; kernels: string[]; described: { className: string; config: object }[] }> {
  const input = tf.input({ shape: inputShape });
  const model = tf.model({ inputs: input, outputs: layers.reduce<tf.SymbolicTensor>((h, l) => l.apply(h) as tf.SymbolicTensor, input) });
  try {
    // The same weights on every backend, whatever the initialisers drew.
    model.trainableWeights.forEach((w, i) => {
      const shape = w.shape as number[];
      w.write(tf.tensor(randomValues(shape.reduce((a, b) => a * b, 1), 50 + i), shape));
    });
    const x = tf.tensor(randomValues(batch * inputShape.reduce((a, b) => a * b, 1), 70), [batch, ...inputShape]);
    const loss = () => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar;
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(loss, variables);
    const values = [value, ...variables.map((v) => grads[v.name])].map((g) => Float32Array.from(g.dataSync()));
    const kernels = (await tf.profile(() => tf.variableGrads(loss, variables).value)).kernels.map((k) => k.name);
    const described = layers.map((layer) => {
      const { kernelInitializer: _k, ...config } = layer.getConfig();
      return { className: layer.getClassName(), config };
    });
    return { values, kernels, described };
  } finally {
    model.dispose();
  }
}

/** A layer op with an optional bias: f(x, weight, bias or null). */
export type BiasedOp = (x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null) => tf.Tensor;

/** y = f(x, weight, bias) from random values of the given shapes (bias null when biasShape is), and
 *  the gradients of sum(y * w) in x, weight and bias (when there is one), as host arrays. */
export function biasedOpGradients(shapes: { x: number[]; weight: number[]; bias: number[] | null }, seed: number, f: BiasedOp): Float32Array[] {
  return tf.tidy(() => {
    const random = (shape: number[], offset: number) => tf.tensor(randomValues(shape.reduce((a, b) => a * b, 1), seed + offset), shape);
    const args = [random(shapes.x, 0), random(shapes.weight, 1), ...(shapes.bias ? [random(shapes.bias, 2)] : [])];
    const apply = (p: tf.Tensor[]) => f(p[0], p[1], p[2] ?? null);
    const y = apply(args);
    const w = tf.tensor(randomValues(y.size, seed + 3), y.shape);
    const grads = tf.grads((...p: tf.Tensor[]) => tf.sum(tf.mul(apply(p), w)))(args);
    return [y, ...grads].map((t) => Float32Array.from(t.dataSync()));
  });
}

/** z + bias (when there is one), then the activation: what TF.js's layers compute unfused. */
export function biasThenActivation(z: tf.Tensor, bias: tf.Tensor | null, activation: 'relu' | 'linear'): tf.Tensor {
  const biased = bias ? tf.add(z, bias) : z;
  return activation === 'relu' ? tf.relu(biased) : biased;
}

/** Asserts that `fused` on wasm gives `standard`'s value and gradients on cpu, for each activation,
 *  with and without a bias (`shapes(withBias)`); `names` label y and the gradients in x, the weight
 *  and the bias. */
export async function assertBiasedOpMatchesCpu(o: {
  label: string;
  seed: number;
  shapes: (withBias: boolean) => Parameters<typeof biasedOpGradients>[0];
  standard: (activation: 'relu' | 'linear') => BiasedOp;
  fused: (activation: 'relu' | 'linear') => BiasedOp;
  names: string[];
  assertClose: (actual: Float32Array, expected: Float32Array, label: string) => void;
}): Promise<void> {
  let seed = o.seed;
  for (const activation of ['relu', 'linear'] as const) {
    for (const withBias of [true, false]) {
      const label = `${activation} ${o.label}${withBias ? ' + bias' : ''}`;
      await tf.setBackend('cpu');
      const expected = biasedOpGradients(o.shapes(withBias), seed, o.standard(activation));
      await tf.setBackend('wasm');
      const actual = biasedOpGradients(o.shapes(withBias), seed, o.fused(activation));
      assert.equal(actual.length, expected.length);
      o.names.slice(0, actual.length).forEach((name, i) => o.assertClose(actual[i], expected[i], `${name} ${label}`));
      seed += 10;
    }
  }
}
