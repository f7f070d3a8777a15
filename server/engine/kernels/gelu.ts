// GELU as one op with its own gradient, for the wasm backend with the native addon.
//
// tf.layers' 'gelu' activation computes x * (0.5 * (1 + erf(x / sqrt 2))) as five kernels (Div, Erf,
// Add, Mul, Mul) and differentiates through each of them (~8 more). gelu() below runs GowideGelu
// and, backwards, GowideGeluGrad (dy * (Phi(x) + x phi(x))), one pass each
// (../native/elementwise-kernels.ts). registerGeluActivation() makes the activation named 'gelu'
// use it wherever it can run (the same values; the same class name, so saved models and configs
// do not change) and TF.js's ops elsewhere.
import * as tf from '@tensorflow/tfjs';
import { getGradient, registerGradient } from '@tensorflow/tfjs-core';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { GELU, GELU_GRAD } from '../native/elementwise-kernels';
import { wasmKernelActive } from './registry';

const geluGrad: GradConfig = {
  kernelName: GELU,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return { x: () => tf.engine().runKernel(GELU_GRAD, { x, dy: dy as Tensor }) as Tensor };
  },
};

/** GELU of x through the fused kernels; null where they cannot run (another backend, no addon, not float32). */
export function fusedGelu(x: Tensor): Tensor | null {
  if (!wasmKernelActive(GELU) || !wasmKernelActive(GELU_GRAD) || x.dtype !== 'float32') return null;
  if (getGradient(GELU) == null) registerGradient(geluGrad);
  return tf.engine().runKernel(GELU, { x }) as Tensor;
}

/** tf.layers' GELU activation (className 'gelu'), through fusedGelu where it can run. */
class Gelu extends tf.serialization.Serializable {
  static className = 'gelu';

  getConfig(): tf.serialization.ConfigDict {
    return {};
  }

  apply(x: Tensor): Tensor {
    return fusedGelu(x) ?? tf.tidy(() => tf.mul(x, tf.mul(0.5, tf.add(1, tf.erf(tf.div(x, Math.sqrt(2)))))));
  }
}

let registered = false;

/** Makes tf.layers' activation 'gelu' (layers built from now on) the class above. Idempotent. */
export function registerGeluActivation(): void {
  if (registered) return;
  tf.serialization.registerClass(Gelu);
  registered = true;
}
