import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CSV_TEST_FRACTION, loadCsv, parseCsvRows } from '../../server/data/csv';
import { loadDataset } from '../../server/data/load';

const FIXTURES = resolve(__dirname, '../fixtures');
const csvConfig = (path: string, extra: object = {}) => ({ format: 'csv', path, trainLimit: 0, testLimit: 0, validationSplit: 0.2, ...extra });

function columnMean(x: Float32Array, count: number, size: number, column: number): number {
  let sum = 0;
  for (let r = 0; r < count; r++) sum += x[r * size + column];
  return sum / count;
}

describe('CSV data', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gowide-csv-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('loads string labels as class ids, splits off a fixed test fraction, standardises with train statistics', async () => {
    const data = await loadDataset(csvConfig('flowers.csv'), FIXTURES, 1);
    assert.equal(data.kind, 'tabular');
    assert.deepEqual(data.exampleShape, [4]);
    assert.deepEqual(data.classNames, ['setosa', 'versicolor', 'virginica']);
    assert.equal(data.test.count, Math.round(30 * CSV_TEST_FRACTION));
    assert.equal(data.train.count + data.validation.count + data.test.count, 30);
    for (let f = 0; f < 4; f++) assert.ok(Math.abs(columnMean(data.train.x, data.train.count, 4, f)) < 1e-5, 'train features are centred');
    const other = await loadDataset(csvConfig('flowers.csv'), FIXTURES, 7);
    assert.deepEqual(Array.from(other.test.y), Array.from(data.test.y), 'test rows do not depend on the seed');
  });

  it('takes the label column by name or index, and a separate test file', async () => {
    const byName = loadCsv(join(FIXTURES, 'flowers.csv'), { labelColumn: 'species' });
    const byIndex = loadCsv(join(FIXTURES, 'flowers.csv'), { labelColumn: 4 });
    assert.deepEqual(byName.trainPool.y, byIndex.trainPool.y);
    const test = write('flowers-test.csv', 'sepal_length,sepal_width,petal_length,petal_width,species\n5.0,3.3,1.4,0.2,setosa\n6.2,2.9,4.3,1.3,versicolor\n');
    const withTest = await loadDataset(csvConfig(join(FIXTURES, 'flowers.csv'), { testPath: test }), dir, 1);
    assert.equal(withTest.test.count, 2);
    assert.deepEqual(Array.from(withTest.test.y), [0, 1]);
  });

  it('parses quoted fields with commas, quotes and CRLF line ends', () => {
    const rows = parseCsvRows('a,b\r\n"x, y","say ""hi"""\r\n\r\n1,2');
    assert.deepEqual(rows.map((r) => r.fields), [['a', 'b'], ['x, y', 'say "hi"'], ['1', '2']]);
    assert.equal(rows[2].line, 4);
  });

  it('a row with the wrong number of fields names the line', () => {
    const path = write('short.csv', 'a,b,label\n1,2,x\n3,y\n5,6,z\n');
    assert.throws(() => loadCsv(path, {}), /short\.csv: line 3 has 2 fields but the header has 3; give every row one value per header column/);
  });

  it('a non-numeric feature names the line and column', () => {
    const path = write('text.csv', 'a,b,label\n1,2,x\n3,oops,y\n5,6,x\n7,8,y\n');
    assert.throws(() => loadCsv(path, {}), /text\.csv: line 3, column "b": "oops" is not a number; feature columns must hold numbers/);
  });

  it('an empty value and an unknown label column are reported', () => {
    const empty = write('empty.csv', 'a,b,label\n1,,x\n3,4,y\n5,6,x\n7,8,y\n');
    assert.throws(() => loadCsv(empty, {}), /line 2, column "b": empty value/);
    assert.throws(() => loadCsv(join(FIXTURES, 'flowers.csv'), { labelColumn: 'kind' }), /has no column named "kind"; set data.labelColumn to one of sepal_length, sepal_width, petal_length, petal_width, species/);
  });
});
