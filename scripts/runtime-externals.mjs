/** Native or optional packages that must be loaded from node_modules at run time, never bundled. */
export const runtimeExternals = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu'];
