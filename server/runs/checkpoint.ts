// Checkpoints: every variable of a set of parts in one binary file, plus a JSON index with names,
// shapes, byte offsets and the binary's sha256. The binary is written first, then the index, both
// atomically; a checkpoint counts only when its index exists and the checksum matches.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJsonAtomic } from './atomic';
import { explainingWriteErrors } from './write-errors';

export interface CheckpointEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
  offset: number;
  length: number;
}

export interface CheckpointIndex {
  format: 'gowide-checkpoint-1';
  name: string;
  createdAt: string;
  binary: string;
  bytes: number;
  sha256: string;
  entries: CheckpointEntry[];
  /** Where in the run this was taken (seed, stage, block...). */
  meta: Record<string, unknown>;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function saveCheckpoint(
  folder: string,
  name: string,
  variables: Map<string, tf.Variable>,
  meta: Record<string, unknown>,
): Promise<CheckpointIndex> {
  explainingWriteErrors(folder, () => fs.mkdirSync(folder, { recursive: true }));
  const entries: CheckpointEntry[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const [key, variable] of variables) {
    const values = (await variable.data()) as Float32Array;
    entries.push({ name: key, shape: variable.shape.slice(), dtype: 'float32', offset, length: values.length * 4 });
    chunks.push(values);
    offset += values.length * 4;
  }
  const binary = new Uint8Array(offset);
  for (let i = 0; i < chunks.length; i++) {
    binary.set(new Uint8Array(chunks[i].buffer, chunks[i].byteOffset, chunks[i].byteLength), entries[i].offset);
  }
  const index: CheckpointIndex = {
    format: 'gowide-checkpoint-1',
    name,
    createdAt: new Date().toISOString(),
    binary: `${name}.bin`,
    bytes: offset,
    sha256: sha256(binary),
    entries,
    meta,
  };
  writeFileAtomic(path.join(folder, index.binary), binary);
  writeJsonAtomic(path.join(folder, `${name}.json`), index);
  return index;
}

/** Reads and verifies a checkpoint; throws naming the file when it is missing, truncated or corrupt. */
export function readCheckpoint(folder: string, name: string): { index: CheckpointIndex; tensors: Map<string, Float32Array> } {
  const indexFile = path.join(folder, `${name}.json`);
  let index: CheckpointIndex;
  try {
    index = JSON.parse(fs.readFileSync(indexFile, 'utf8')) as CheckpointIndex;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) throw err; // unreadable: the message names the file
    throw new Error(`checkpoint index ${indexFile} is corrupt (${(err as Error).message})`);
  }
  if (index?.format !== 'gowide-checkpoint-1' || typeof index.binary !== 'string' || !Array.isArray(index.entries) || typeof index.sha256 !== 'string') {
    throw new Error(`checkpoint index ${indexFile} is corrupt (not a gowide checkpoint index)`);
  }
  for (const e of index.entries) {
    if (!(Number.isInteger(e?.offset) && Number.isInteger(e.length) && e.offset >= 0 && e.length >= 0 && e.offset + e.length <= index.bytes && e.length % 4 === 0)) {
      throw new Error(`checkpoint index ${indexFile} is corrupt (entry ${String(e?.name)} lies outside the ${index.bytes}-byte binary)`);
    }
  }
  const binaryFile = path.join(folder, path.basename(index.binary));
  const binary = fs.readFileSync(binaryFile);
  if (binary.length !== index.bytes) {
    throw new Error(`checkpoint ${binaryFile} is truncated (${binary.length} of ${index.bytes} bytes)`);
  }
  if (sha256(binary) !== index.sha256) throw new Error(`checkpoint ${binaryFile} is corrupt (sha256 mismatch)`);
  const tensors = new Map<string, Float32Array>();
  for (const e of index.entries) {
    const copy = new Float32Array(e.length / 4);
    new Uint8Array(copy.buffer).set(binary.subarray(e.offset, e.offset + e.length));
    tensors.set(e.name, copy);
  }
  return { index, tensors };
}

/** Assigns a verified checkpoint's values to the variables of the same names and shapes. */
export function restoreCheckpoint(folder: string, name: string, variables: Map<string, tf.Variable>): CheckpointIndex {
  const { index, tensors } = readCheckpoint(folder, name);
  for (const e of index.entries) {
    const variable = variables.get(e.name);
    if (!variable) continue;
    if (variable.shape.join('x') !== e.shape.join('x')) {
      throw new Error(`checkpoint ${name}: ${e.name} has shape [${e.shape}], the net expects [${variable.shape}]`);
    }
    tf.tidy(() => variable.assign(tf.tensor(tensors.get(e.name)!, e.shape, 'float32')));
  }
  return index;
}

export function listCheckpoints(folder: string): string[] {
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}
