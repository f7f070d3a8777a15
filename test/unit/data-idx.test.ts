import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DEBIAN_FASHION_MNIST, downloadFashionMnist } from '../../server/data/fashion-mnist';
import { loadDataset } from '../../server/data/load';
import { IDX_FILE_NAMES, loadIdxFolder } from '../../server/data/idx';
import { savedEnv } from './env';
import { FASHION_MNIST_SAMPLE, SAMPLE_COUNTS, debianFashionMnistOrSkip, idxFileCounts, idxHead } from './fashion-data';

const idxFile = (folder: string, name: string): Buffer => gunzipSync(readFileSync(join(folder, `${name}.gz`)));

/** The first `count` examples of a real IDX file (from the repository's sample), with a header saying so. */
const realHead = (name: string, count: number): Buffer => idxHead(idxFile(FASHION_MNIST_SAMPLE, name), count);

function histogram(labels: Int32Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const label of labels) counts[label]++;
  return counts;
}

function valueRange(values: Float32Array): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

describe('IDX loading (the repository\'s Fashion-MNIST sample)', () => {
  it(`reads ${SAMPLE_COUNTS.train} / ${SAMPLE_COUNTS.test} images of 28x28x1 with labels of all 10 classes, values in [0, 1]`, () => {
    const data = loadIdxFolder(FASHION_MNIST_SAMPLE, 'fashion-mnist');
    assert.deepEqual([data.trainPool.count, data.test.count], [SAMPLE_COUNTS.train, SAMPLE_COUNTS.test]);
    assert.deepEqual(data.exampleShape, [28, 28, 1]);
    assert.equal(data.numClasses, 10);
    assert.equal(data.trainPool.x.length, SAMPLE_COUNTS.train * 784);
    assert.ok(histogram(data.trainPool.y).every((n) => n >= 80), `every class in the training sample: ${histogram(data.trainPool.y)}`);
    assert.ok(histogram(data.test.y).every((n) => n >= 20), `every class in the test sample: ${histogram(data.test.y)}`);
    assert.deepEqual(valueRange(data.test.x), [0, 1]);
  });

  it('format fashion-mnist with data.path splits by seed and names the classes', async () => {
    const config = { format: 'fashion-mnist', path: FASHION_MNIST_SAMPLE, trainLimit: 500, testLimit: 200, validationSplit: 0.2 };
    const a = await loadDataset(config, '.', 1);
    const b = await loadDataset(config, '.', 2);
    assert.equal(a.source, FASHION_MNIST_SAMPLE);
    assert.deepEqual([a.train.count, a.validation.count, a.test.count], [400, 100, 200]);
    assert.notDeepEqual(a.train.y, b.train.y, 'another seed gives another shuffle');
    assert.deepEqual(a.test.y, b.test.y, 'the test split does not depend on the seed');
    assert.deepEqual(a.classNames?.[9], 'Ankle boot');
  });
});

describe('Debian dataset-fashion-mnist (skipped where it is not installed, required in CI)', () => {
  it('reads all of it: 60000 / 10000 images of 28x28x1, 10 balanced classes, values in [0, 1]', (t) => {
    if (!debianFashionMnistOrSkip(t)) return;
    const data = loadIdxFolder(DEBIAN_FASHION_MNIST, 'fashion-mnist');
    assert.equal(data.trainPool.count, 60000);
    assert.equal(data.test.count, 10000);
    assert.deepEqual(data.exampleShape, [28, 28, 1]);
    assert.equal(data.numClasses, 10);
    assert.equal(data.trainPool.x.length, 60000 * 784);
    assert.deepEqual(histogram(data.trainPool.y), new Array(10).fill(6000));
    assert.deepEqual(histogram(data.test.y), new Array(10).fill(1000));
    assert.deepEqual(valueRange(data.test.x), [0, 1]);
  });

  it('format fashion-mnist without data.path finds the Debian folder', async (t) => {
    if (!debianFashionMnistOrSkip(t)) return;
    const data = await loadDataset({ format: 'fashion-mnist', trainLimit: 5000, testLimit: 1000, validationSplit: 0.2 }, '.', 1);
    assert.equal(data.source, DEBIAN_FASHION_MNIST);
    assert.deepEqual([data.train.count, data.validation.count, data.test.count], [4000, 1000, 1000]);
  });

  it('the repository\'s sample is the head of Debian\'s files', (t) => {
    if (!debianFashionMnistOrSkip(t)) return;
    for (const [name, count] of Object.entries(idxFileCounts(SAMPLE_COUNTS.train, SAMPLE_COUNTS.test))) {
      assert.ok(idxFile(FASHION_MNIST_SAMPLE, name).equals(idxHead(idxFile(DEBIAN_FASHION_MNIST, name), count)), `${name}: the sample differs from Debian's first ${count} items`);
    }
  });
});

describe('corrupt IDX folders give specific messages', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gowide-idx-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A folder of 200 train / 50 test real examples; `change` alters one file's bytes. */
  function folder(label: string, change?: { file: string; bytes: (original: Buffer) => Buffer; gzip?: boolean }): string {
    const path = join(dir, label);
    mkdirSync(path, { recursive: true });
    for (const [name, count] of Object.entries(idxFileCounts(200, 50))) {
      let bytes = realHead(name, count);
      if (change?.file === name) bytes = change.bytes(bytes);
      const gzip = change?.file === name ? change.gzip ?? false : true;
      writeFileSync(join(path, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
    }
    return path;
  }

  it('loads a small valid folder with plain and gzipped files mixed', () => {
    const data = loadIdxFolder(folder('ok', { file: IDX_FILE_NAMES.testLabels, bytes: (b) => b, gzip: false }), 'small');
    assert.equal(data.trainPool.count, 200);
    assert.equal(data.test.count, 50);
  });

  it('bad magic number', () => {
    const path = folder('magic', { file: IDX_FILE_NAMES.trainImages, bytes: (b) => { const c = Buffer.from(b); c.writeUInt32BE(0x00000801, 0); return c; } });
    assert.throws(() => loadIdxFolder(path, 'x'), (error: Error) => {
      assert.match(error.message, /train-images-idx3-ubyte: magic number 0x00000801 is not that of an IDX images file \(0x00000803\)/);
      assert.match(error.message, /not swapped with another file/);
      return true;
    });
  });

  it('truncated file', () => {
    const path = folder('truncated', { file: IDX_FILE_NAMES.testImages, bytes: (b) => b.subarray(0, b.length - 100) });
    assert.throws(() => loadIdxFolder(path, 'x'), /t10k-images-idx3-ubyte: is truncated: its header announces 50 x 28 x 28 values \(39200 bytes\) but the file holds 39100; re-download it/);
  });

  it('image and label counts differ', () => {
    const path = folder('count', { file: IDX_FILE_NAMES.trainLabels, bytes: () => realHead(IDX_FILE_NAMES.trainLabels, 199), gzip: true });
    assert.throws(() => loadIdxFolder(path, 'x'), /train-labels-idx1-ubyte\.gz: has 199 labels but .*train-images-idx3-ubyte\.gz has 200 images; use the images and labels files that belong together/);
  });

  it('broken gzip stream', () => {
    const path = folder('gzip', { file: IDX_FILE_NAMES.trainLabels, bytes: (b) => gzipSync(b).subarray(0, 30), gzip: false });
    assert.throws(() => loadIdxFolder(path, 'x'), /train-labels-idx1-ubyte: is not a valid gzip file/);
  });

  it('a missing file names the folder and the four files', () => {
    const path = folder('missing');
    rmSync(join(path, `${IDX_FILE_NAMES.testLabels}.gz`));
    assert.throws(() => loadIdxFolder(path, 'x'), /missing: has no t10k-labels-idx1-ubyte \(or t10k-labels-idx1-ubyte\.gz\); put the four IDX files/);
  });

  it('a test label outside the training label range', () => {
    const path = folder('range', { file: IDX_FILE_NAMES.testLabels, bytes: (b) => { const c = Buffer.from(b); c[8] = 42; return c; } });
    assert.throws(() => loadIdxFolder(path, 'x'), /t10k-labels-idx1-ubyte: has label 42 but the training labels only go up to 9/);
  });
});

describe('Fashion-MNIST download', () => {
  it('offline: a clear message naming the Debian package and the cache folder', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'gowide-cache-'));
    const restoreEnv = savedEnv(['GOWIDE_CACHE', 'GOWIDE_FASHION_MNIST_URL']);
    process.env.GOWIDE_CACHE = cache;
    process.env.GOWIDE_FASHION_MNIST_URL = 'http://127.0.0.1:9'; // nothing listens on the discard port
    try {
      await assert.rejects(downloadFashionMnist(5000), (error: Error) => {
        assert.match(error.message, /^http:\/\/127\.0\.0\.1:9\/train-images-idx3-ubyte\.gz: could not be downloaded \(/);
        assert.match(error.message, /install Debian's dataset-fashion-mnist \(apt-get install dataset-fashion-mnist\) or put the four IDX files/);
        assert.ok(error.message.includes(join(cache, 'fashion-mnist')));
        return true;
      });
    } finally {
      restoreEnv();
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
