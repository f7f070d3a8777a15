// Writes test/fixtures/fashion-mnist-sample: the first 1,000 training and 300 test images of
// Fashion-MNIST (with their labels) as four gzipped IDX files, cut from Debian's dataset-fashion-mnist.
// Run once when the sample must be made again:
//   node --import tsx scripts/make-fashion-sample.ts [folder with the four IDX files]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DEBIAN_FASHION_MNIST } from '../server/data/fashion-mnist';
import { findIdxFile } from '../server/data/idx';
import { FASHION_MNIST_SAMPLE, SAMPLE_COUNTS, idxFileCounts, idxHead } from '../test/unit/fashion-data';

const source = process.argv[2] ?? DEBIAN_FASHION_MNIST;

mkdirSync(FASHION_MNIST_SAMPLE, { recursive: true });
for (const [name, count] of Object.entries(idxFileCounts(SAMPLE_COUNTS.train, SAMPLE_COUNTS.test))) {
  const file = findIdxFile(source, name);
  if (!file) throw new Error(`${source}: has no ${name} (or ${name}.gz); apt-get install dataset-fashion-mnist or name the folder`);
  const bytes = readIdx(file);
  const sample = gzipSync(idxHead(bytes, count), { level: 9 });
  writeFileSync(join(FASHION_MNIST_SAMPLE, `${name}.gz`), sample);
  console.log(`${name}.gz: ${count} items, ${sample.length} bytes`);
}

function readIdx(file: string): Buffer {
  const bytes = readFileSync(file);
  return file.endsWith('.gz') ? gunzipSync(bytes) : bytes;
}
