import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { BUILTIN_DATASETS, generateBuiltin, generateShapes } from '../../server/data/builtin';
import { loadDataset } from '../../server/data/load';
import { Random, shuffledIndices } from '../../server/data/random';

const digest = (x: Float32Array | Int32Array): string => createHash('sha256').update(Buffer.from(x.buffer, x.byteOffset, x.byteLength)).digest('hex');

describe('seeded PRNG', () => {
  it('repeats for a seed, differs between seeds, stays in range', () => {
    const a = new Random(42);
    const b = new Random(42);
    const c = new Random(43);
    const sa = Array.from({ length: 100 }, () => a.next());
    assert.deepEqual(sa, Array.from({ length: 100 }, () => b.next()));
    assert.notDeepEqual(sa, Array.from({ length: 100 }, () => c.next()));
    assert.ok(sa.every((v) => v >= 0 && v < 1));
    const order = Array.from(shuffledIndices(1000, 5)).sort((x, y) => x - y);
    assert.deepEqual(order, Array.from({ length: 1000 }, (_, i) => i), 'a shuffle is a permutation');
  });

  it('gives a roughly uniform and normal spread', () => {
    const random = new Random(1);
    const n = 20000;
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < n; i++) {
      const v = random.normal();
      sum += v;
      sumSquares += v * v;
    }
    assert.ok(Math.abs(sum / n) < 0.05);
    assert.ok(Math.abs(sumSquares / n - 1) < 0.05);
  });
});

describe('built-in data sets', () => {
  it('shapes: identical bytes for a seed, different for another seed', () => {
    const a = generateShapes(3, 500, 100);
    const b = generateShapes(3, 500, 100);
    const c = generateShapes(4, 500, 100);
    assert.equal(digest(a.trainPool.x), digest(b.trainPool.x));
    assert.equal(digest(a.test.x), digest(b.test.x));
    assert.notEqual(digest(a.trainPool.x), digest(c.trainPool.x));
  });

  it('shapes: standard size, balanced classes, pixels in [0, 1]', () => {
    const data = generateBuiltin('shapes');
    assert.equal(data.trainPool.count, BUILTIN_DATASETS.shapes.trainCount);
    assert.equal(data.test.count, BUILTIN_DATASETS.shapes.testCount);
    assert.equal(data.trainPool.x.length, data.trainPool.count * 256);
    const counts = new Array<number>(10).fill(0);
    for (const label of data.trainPool.y) counts[label]++;
    assert.deepEqual(counts, new Array(10).fill(800));
    assert.ok(data.trainPool.x.every((v) => v >= 0 && v <= 1));
  });

  it('majority: the label is the strict majority among class tokens', () => {
    const data = generateBuiltin('majority');
    const length = 16;
    for (let i = 0; i < data.trainPool.count; i++) {
      const counts = [0, 0, 0, 0];
      for (let t = 0; t < length; t++) {
        const token = data.trainPool.x[i * length + t];
        assert.ok(Number.isInteger(token) && token >= 0 && token < 16);
        if (token < 4) counts[token]++;
      }
      const label = data.trainPool.y[i];
      assert.ok(counts.every((count, c) => c === label || count < counts[label]), `example ${i}`);
    }
  });

  it('loadDataset: limits and validation split, same test set for every seed', async () => {
    const config = { format: 'shapes', trainLimit: 3000, testLimit: 500, validationSplit: 0.1 };
    const one = await loadDataset(config, '.', 1);
    const again = await loadDataset(config, '.', 1);
    const two = await loadDataset(config, '.', 2);
    assert.deepEqual([one.train.count, one.validation.count, one.test.count], [2700, 300, 500]);
    assert.equal(digest(one.train.x), digest(again.train.x));
    assert.notEqual(digest(one.train.x), digest(two.train.x));
    assert.equal(digest(one.test.x), digest(two.test.x));
    assert.deepEqual(one.exampleShape, [16, 16, 1]);
  });
});
