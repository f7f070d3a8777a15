// A filesystem IOHandler for TF.js models (tfjs-node's file:// handler is unavailable here).
// Writes DIR/model.json (topology + weights manifest) and DIR/weights.bin, the layout
// tf.loadLayersModel('file://...') and tfjs-converter expect; reads the same layout back.
//
//   await model.save(fileSystemHandler(dir));
//   const loaded = await tf.loadLayersModel(fileSystemHandler(dir));
//
// Exported gowide transformers use custom layers: import this models module (which registers them)
// before loading such a model.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

export function fileSystemHandler(directory: string): tf.io.IOHandler {
  return {
    save: (artifacts) => saveArtifacts(directory, artifacts),
    load: () => loadArtifacts(directory),
  };
}

async function writeFileAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}`;
  await writeFile(temporary, data);
  await rename(temporary, file);
}

async function saveArtifacts(directory: string, artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
  if (artifacts.modelTopology instanceof ArrayBuffer) {
    throw new Error('fileSystemHandler saves JSON model topologies only');
  }
  await mkdir(directory, { recursive: true });
  const weightData = artifacts.weightData ?? new ArrayBuffer(0);
  const weightBuffer = tf.io.CompositeArrayBuffer.join(weightData);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as {},
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
  };
  if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  // Weights first: a model.json on disk always has its weights next to it.
  await writeFileAtomically(path.join(directory, WEIGHTS_BIN), new Uint8Array(weightBuffer));
  await writeFileAtomically(path.join(directory, MODEL_JSON), JSON.stringify(modelJson));
  return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
}

async function loadArtifacts(directory: string): Promise<tf.io.ModelArtifacts> {
  const jsonPath = path.join(directory, MODEL_JSON);
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(await readFile(jsonPath, 'utf8')) as tf.io.ModelJSON;
  } catch (error) {
    throw new Error(`cannot read TF.js model ${jsonPath}: ${(error as Error).message}`);
  }
  return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: ArrayBuffer[] = [];
    for (const group of manifest) {
      specs.push(...group.weights);
      for (const file of group.paths) {
        const bytes = await readFile(path.join(directory, file));
        buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
      }
    }
    return [specs, tf.io.concatenateArrayBuffers(buffers)];
  });
}

export async function saveLayersModel(model: tf.LayersModel, directory: string): Promise<tf.io.SaveResult> {
  return model.save(fileSystemHandler(directory));
}

export async function loadLayersModel(directory: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileSystemHandler(directory));
}
