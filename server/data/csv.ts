// CSV data: a header row, numeric feature columns and one label column (numbers or strings).
// Without a separate test file, a fixed CSV_TEST_FRACTION of the rows, chosen by a fixed shuffle that
// does not depend on the run's seed, is the test split, so every seed is evaluated on the same rows.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { DataError } from './errors';
import { shuffledIndices } from './random';
import { selectRows, type UnsplitDataset } from './split';
import type { Dataset, Split } from './types';

/** Fraction of the rows held out as the test split when no testPath is given. */
export const CSV_TEST_FRACTION = 0.2;
/** Seed of the shuffle that picks those rows (fixed, so the test rows never change). */
const CSV_TEST_SHUFFLE_SEED = 0x7e57;

/** Splits CSV text into rows of fields (RFC 4180: quoted fields may hold commas, quotes and newlines). */
export function parseCsvRows(text: string): { fields: string[]; line: number }[] {
  const rows: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const endRow = (): void => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0].trim() === '')) rows.push({ fields, line: rowLine });
    fields = [];
    field = '';
  };
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else field += ch;
  }
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}

interface CsvTable {
  file: string;
  header: string[];
  rows: { fields: string[]; line: number }[];
}

function readTable(file: string): CsvTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DataError(file, `cannot be read (${(error as Error).message})`, 'check data.path');
  }
  const rows = parseCsvRows(text);
  if (rows.length < 2) {
    throw new DataError(file, 'needs a header row and at least one data row', 'add the column names on the first line, then one example per line');
  }
  const header = rows[0].fields.map((name) => name.trim());
  for (const row of rows.slice(1)) {
    if (row.fields.length !== header.length) {
      throw new DataError(
        file,
        `line ${row.line} has ${row.fields.length} fields but the header has ${header.length}`,
        'give every row one value per header column (quote values that contain commas)',
      );
    }
  }
  return { file, header, rows: rows.slice(1) };
}

function labelColumnIndex(table: CsvTable, labelColumn: string | number | undefined): number {
  if (labelColumn === undefined) return table.header.length - 1;
  if (typeof labelColumn === 'number') {
    if (!Number.isInteger(labelColumn) || labelColumn < 0 || labelColumn >= table.header.length) {
      throw new DataError(
        table.file,
        `has no column ${labelColumn} (it has ${table.header.length}, numbered from 0)`,
        `set data.labelColumn to a column name (${table.header.join(', ')}) or an index from 0 to ${table.header.length - 1}`,
      );
    }
    return labelColumn;
  }
  const index = table.header.indexOf(labelColumn);
  if (index < 0) {
    throw new DataError(table.file, `has no column named "${labelColumn}"`, `set data.labelColumn to one of ${table.header.join(', ')}`);
  }
  return index;
}

/** Class ids for label strings: integer labels in numeric order, other labels in alphabetical order. */
function classNamesOf(labels: string[]): string[] {
  const distinct = [...new Set(labels)];
  const allIntegers = distinct.every((label) => /^-?\d+$/.test(label));
  return allIntegers ? distinct.sort((a, b) => Number(a) - Number(b)) : distinct.sort();
}

function toSplit(table: CsvTable, labelIndex: number, classIds: Map<string, number>): Split {
  const featureCount = table.header.length - 1;
  const x = new Float32Array(table.rows.length * featureCount);
  const y = new Int32Array(table.rows.length);
  table.rows.forEach((row, r) => {
    let f = 0;
    row.fields.forEach((raw, c) => {
      const value = raw.trim();
      if (c === labelIndex) {
        const id = classIds.get(value);
        if (id === undefined) {
          throw new DataError(
            table.file,
            `line ${row.line}: label "${value}" does not occur in the training file`,
            'use only labels that the training data has',
          );
        }
        y[r] = id;
        return;
      }
      const number = value === '' ? NaN : Number(value);
      if (!Number.isFinite(number)) {
        throw new DataError(
          table.file,
          `line ${row.line}, column "${table.header[c]}": ${value === '' ? 'empty value' : `"${value}" is not a number`}`,
          'feature columns must hold numbers; fill in missing values or drop the column',
        );
      }
      x[r * featureCount + f++] = number;
    });
  });
  return { x, y, count: table.rows.length };
}

export interface CsvOptions {
  labelColumn?: string | number;
  /** A separate test file with the same columns; absent: CSV_TEST_FRACTION of the rows. */
  testPath?: string;
}

/** Loads a CSV file (features not yet standardised: see standardizeFeatures). */
export function loadCsv(file: string, options: CsvOptions): UnsplitDataset {
  const table = readTable(file);
  const labelIndex = labelColumnIndex(table, options.labelColumn);
  if (table.header.length < 2) {
    throw new DataError(file, 'has only the label column', 'add at least one feature column');
  }
  const classNames = classNamesOf(table.rows.map((row) => row.fields[labelIndex].trim()));
  if (classNames.length < 2) {
    throw new DataError(file, `column "${table.header[labelIndex]}" has a single label value`, 'check data.labelColumn: a classification task needs 2 or more classes');
  }
  const classIds = new Map(classNames.map((name, id) => [name, id]));
  const all = toSplit(table, labelIndex, classIds);
  const featureCount = table.header.length - 1;
  let trainPool: Split;
  let test: Split;
  if (options.testPath) {
    const testTable = readTable(options.testPath);
    if (testTable.header.join(',') !== table.header.join(',')) {
      throw new DataError(options.testPath, `has columns ${testTable.header.join(', ')} but ${basename(file)} has ${table.header.join(', ')}`, 'use a test file with the same columns in the same order');
    }
    trainPool = all;
    test = toSplit(testTable, labelIndex, classIds);
  } else {
    const order = shuffledIndices(all.count, CSV_TEST_SHUFFLE_SEED);
    const testCount = Math.max(1, Math.round(all.count * CSV_TEST_FRACTION));
    if (all.count - testCount < 2) {
      throw new DataError(file, `has only ${all.count} rows`, 'give more examples (or a separate data.testPath)');
    }
    test = selectRows(all, Array.from(order.subarray(0, testCount)).sort((a, b) => a - b), featureCount);
    trainPool = selectRows(all, order.subarray(testCount), featureCount);
  }
  return {
    name: basename(file).replace(/\.csv$/i, ''),
    kind: 'tabular',
    exampleShape: [featureCount],
    numClasses: classNames.length,
    classNames,
    trainPool,
    test,
    source: options.testPath ? `${file} + ${options.testPath}` : file,
  };
}

/** Standardises every feature with the mean and standard deviation of the TRAIN split only (in place). */
export function standardizeFeatures(data: Dataset): void {
  const size = data.exampleShape[0];
  const mean = new Float64Array(size);
  const variance = new Float64Array(size);
  const { x, count } = data.train;
  for (let r = 0; r < count; r++) for (let f = 0; f < size; f++) mean[f] += x[r * size + f];
  for (let f = 0; f < size; f++) mean[f] /= Math.max(count, 1);
  for (let r = 0; r < count; r++) for (let f = 0; f < size; f++) variance[f] += (x[r * size + f] - mean[f]) ** 2;
  const scale = Array.from(variance, (v) => {
    const std = Math.sqrt(v / Math.max(count, 1));
    return std > 1e-12 ? 1 / std : 1; // a constant column stays 0 after centring
  });
  for (const split of [data.train, data.validation, data.test]) {
    for (let r = 0; r < split.count; r++) {
      for (let f = 0; f < size; f++) split.x[r * size + f] = (split.x[r * size + f] - mean[f]) * scale[f];
    }
  }
}
