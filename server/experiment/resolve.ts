// resolveExperiment: the user's parsed NAME.gowide.json -> a complete Experiment with every default
// filled in, or the list of problems (field path, what is wrong, the fix) that stop it.
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { BACKEND_NAMES, BASELINE_NAMES, MODEL_FAMILIES, type ExperimentProblem, type FinetuneSettingKey, type ModelFamily } from '../protocol';
import { isBuiltinName } from '../data/builtin';
import { missingIdxFiles } from '../data/idx';
import { DATA_FORMATS, dataKindOf, knownExampleShape, resolveDataPath } from '../data/load';
import type { DataKind } from '../data/types';
import { DATA_KIND_NOUNS, FAMILY_DATA_KINDS, familiesTaking, familyTakes } from '../models/family-data';
import { patchSizeProblem } from '../models/patch-grid';
import {
  DEFAULT_BASELINES, DEFAULT_DATA, DEFAULT_FINETUNE, DEFAULT_IMITATE, DEFAULT_MODEL, DEFAULT_SEEDS,
  DEFAULT_WIDE, WIDE_MEMORY_ERROR_BYTES, WIDE_MEMORY_WARNING_BYTES, WIDE_PARAMS_WARNING,
  defaultDownsampleAt, defaultImitationGroups, defaultWiden,
} from './defaults';
import { defaultWideEpochs } from './budget';
import { estimateNets, formatBytes, formatCount } from './estimate';
import { FieldReader, isPlainObject, ruleFromRange, typeName, type ReadContext } from './fields';
import { schemaRange } from './setting-range';
import { resolveSweep, sweepShapeProblems, type SweepGrid, type SweepPoint } from './sweep';
import {
  NAMED_IMITATION_GROUPINGS, type BaselineName, type DataConfig, type Experiment, type FinetuneConfig, type ImitateConfig,
  type ImitationGrouping, type LearningRateSchedule, type ModelConfig, type OptimizerName, type TrainConfig, type WidenConfig,
} from './types';

export const OPTIMIZERS: readonly OptimizerName[] = ['adam', 'sgd', 'momentum'];
export const SCHEDULES: readonly LearningRateSchedule[] = ['constant', 'cosine', 'warmup-cosine'];
export const BASELINES: readonly BaselineName[] = BASELINE_NAMES;
export const ACTIVATIONS = ['relu', 'gelu', 'tanh'] as const;

export interface ResolveResult {
  /** Present when there are no errors (warnings allowed). */
  experiment?: Experiment;
  problems: ExperimentProblem[];
  /** When the file names a sweep (and has no errors): its grid and every point resolved. */
  sweep?: { grid: SweepGrid; points: SweepPoint[] };
}

const LEARNING_RATE = { min: 0, exclusiveMin: true, max: 10 };
const BATCH_SIZE = { min: 1, max: 65536, integer: true };

function readData(reader: FieldReader, experimentDir: string): DataConfig {
  const formatValue = reader.take('format');
  let format = 'shapes';
  if (formatValue === undefined) {
    reader.error(reader.fieldPath('format'), 'data.format is missing', `add "format": one of ${DATA_FORMATS.join(', ')}`);
  } else if (reader.checkChoice(reader.fieldPath('format'), formatValue, DATA_FORMATS, 'a data format')) {
    format = formatValue;
  }
  const path = reader.string('path');
  const testPath = reader.string('testPath');
  const labelValue = reader.take('labelColumn');
  let labelColumn: string | number | undefined;
  if (labelValue !== undefined) {
    if (typeof labelValue === 'string' || (typeof labelValue === 'number' && Number.isInteger(labelValue) && labelValue >= 0)) {
      labelColumn = labelValue;
    } else {
      reader.error(reader.fieldPath('labelColumn'), `labelColumn must be a column name or a 0-based column index, not ${typeName(labelValue)} ${JSON.stringify(labelValue)}`, 'write the header name in quotes, or a whole number from 0');
    }
    if (format !== 'csv') reader.warn(reader.fieldPath('labelColumn'), `labelColumn only applies to csv data, not "${format}"`, 'remove it');
  }
  const config: DataConfig = {
    format,
    path,
    trainLimit: reader.number('trainLimit', { min: 0, integer: true, belowMinFix: 'use 0 for all examples' }, DEFAULT_DATA.trainLimit),
    testLimit: reader.number('testLimit', { min: 0, integer: true, belowMinFix: 'use 0 for all examples' }, DEFAULT_DATA.testLimit),
    validationSplit: reader.number('validationSplit', { min: 0, max: 0.5 }, DEFAULT_DATA.validationSplit),
    labelColumn,
    testPath,
  };
  checkDataPaths(reader, config, experimentDir);
  reader.finish();
  return config;
}

function checkDataPaths(reader: FieldReader, config: DataConfig, experimentDir: string): void {
  const pathField = reader.fieldPath('path');
  const needsPath = config.format === 'idx' || config.format === 'csv';
  if (config.path === undefined) {
    if (needsPath) {
      reader.error(pathField, `data.path is missing; "${config.format}" data is read from ${config.format === 'idx' ? 'a folder' : 'a file'}`,
        config.format === 'idx' ? 'add "path": the folder with train-images-idx3-ubyte(.gz) and the other three IDX files' : 'add "path": the CSV file');
    }
  } else if (isBuiltinName(config.format)) {
    reader.warn(pathField, `"${config.format}" is built in and reads no files; data.path is ignored`, 'remove data.path');
  } else {
    const full = resolveDataPath(config.path, experimentDir);
    const wantFolder = config.format !== 'csv';
    if (!existsSync(full)) {
      reader.error(pathField, `${wantFolder ? 'data folder' : 'data file'} ${full} does not exist`,
        config.format === 'fashion-mnist'
          ? 'remove data.path to use Debian\'s dataset-fashion-mnist or the download cache, or point it at the folder with the four IDX files'
          : `fix data.path (relative paths start from the experiment file's folder, ${experimentDir})`);
    } else if (wantFolder && !statSync(full).isDirectory()) {
      reader.error(pathField, `${full} is a file, but "${config.format}" data is a folder`, 'point data.path at the folder that holds the four IDX files');
    } else if (!wantFolder && statSync(full).isDirectory()) {
      reader.error(pathField, `${full} is a folder, but csv data is one file`, 'point data.path at the .csv file');
    } else if (wantFolder) {
      const missing = missingIdxFiles(full);
      if (missing.length > 0) {
        reader.error(pathField, `data folder ${full} lacks ${missing.join(', ')} (plain or .gz)`, 'put the four IDX files in that folder');
      }
    }
  }
  if (config.testPath !== undefined) {
    const testField = reader.fieldPath('testPath');
    if (config.format !== 'csv') reader.warn(testField, `testPath only applies to csv data, not "${config.format}"`, 'remove it');
    else if (!existsSync(resolveDataPath(config.testPath, experimentDir))) {
      reader.error(testField, `test file ${resolveDataPath(config.testPath, experimentDir)} does not exist`, 'fix data.testPath, or remove it to split the test rows off data.path');
    }
  }
}

function readModel(reader: FieldReader, dataKind: DataKind | undefined): ModelConfig {
  const familyValue = reader.take('family');
  let family: ModelFamily = 'mlp';
  if (familyValue === undefined) {
    reader.error(reader.fieldPath('family'), 'model.family is missing', `add "family": one of ${MODEL_FAMILIES.join(', ')}`);
  } else if (reader.checkChoice(reader.fieldPath('family'), familyValue, MODEL_FAMILIES, 'a model family')) {
    family = familyValue;
  }
  const d = DEFAULT_MODEL[family];
  const depth = reader.number('depth', { min: 1, max: 500, integer: true }, d.depth);
  const model: ModelConfig = {
    family,
    depth,
    width: reader.number('width', { min: 1, max: 8192, integer: true }, d.width),
    activation: reader.choice('activation', ACTIVATIONS, 'an activation', d.activation),
    kernelSize: reader.number('kernelSize', { min: 1, max: 15, integer: true }, d.kernelSize),
    downsampleAt: readDownsampleAt(reader, family, depth),
    bottleneckRatio: reader.number('bottleneckRatio', { min: 0, exclusiveMin: true, max: 4 }, d.bottleneckRatio),
    normalization: reader.boolean('normalization', d.normalization),
    heads: reader.number('heads', { min: 1, max: 128, integer: true }, d.heads),
    ffnMultiplier: reader.number('ffnMultiplier', { min: 1, max: 16 }, d.ffnMultiplier),
    patchSize: reader.number('patchSize', { min: 1, max: 64, integer: true }, d.patchSize),
    dropout: reader.number('dropout', { min: 0, max: 0.9 }, d.dropout),
  };
  if (reader.has('patchSize') && (family !== 'transformer' || (dataKind !== undefined && dataKind !== 'image'))) {
    reader.warn(reader.fieldPath('patchSize'), `patchSize only applies to the transformer family on images, not ${family} on ${dataKind ?? 'this'} data`, 'remove it');
  }
  reader.finish();
  return model;
}

function readDownsampleAt(reader: FieldReader, family: ModelFamily, depth: number): number[] {
  const values = reader.array('downsampleAt');
  if (values === undefined) return defaultDownsampleAt(family, depth);
  const field = reader.fieldPath('downsampleAt');
  if (family !== 'cnn' && family !== 'resnet' && values.length > 0) {
    reader.warn(field, `downsampleAt only applies to cnn and resnet, not ${family}`, 'remove it');
  }
  const result: number[] = [];
  values.forEach((value, i) => {
    const itemField = `${field}[${i}]`;
    if (!reader.checkNumber(itemField, value, { min: 0, integer: true, label: 'block index' })) return;
    if (value >= depth) {
      reader.error(itemField, `block index ${value} is past the last block (model.depth is ${depth}, so blocks are 0..${depth - 1})`, `use an index below ${depth}`);
    } else if (result.includes(value)) {
      reader.error(itemField, `block ${value} is listed twice`, 'list each block once');
    } else result.push(value);
  });
  return result.sort((a, b) => a - b);
}

function readWiden(reader: FieldReader, family: ModelFamily, depth: number): WidenConfig {
  const d = defaultWiden(family);
  const factorRule = { ...ruleFromRange(schemaRange('widen', 'factor')), label: 'factor', belowMinFix: 'use 1 to keep a block thin' };
  const widen: WidenConfig = {
    factor: reader.number('factor', factorRule, d.factor),
    mode: reader.choice('mode', ['inside', 'all'] as const, 'a widening mode', d.mode),
  };
  const perLayer = reader.array('perLayer');
  if (perLayer !== undefined) {
    const field = reader.fieldPath('perLayer');
    const factors = perLayer.map((value, i) => (reader.checkNumber(`${field}[${i}]`, value, factorRule) ? value : widen.factor));
    if (factors.length !== depth) {
      reader.error(field, `perLayer has ${factors.length} factor${factors.length === 1 ? '' : 's'} but model.depth is ${depth}`,
        `give one factor per block (${depth}), or remove perLayer to widen every block by factor`);
    }
    widen.perLayer = factors;
  }
  reader.finish();
  return widen;
}

function readTrain(reader: FieldReader, d: TrainConfig): TrainConfig {
  const config: TrainConfig = {
    epochs: reader.number('epochs', { min: 1, max: 10000, label: 'epochs', belowMinFix: 'train the wide net for at least 1 epoch' }, d.epochs),
    batchSize: reader.number('batchSize', BATCH_SIZE, d.batchSize),
    optimizer: reader.choice('optimizer', OPTIMIZERS, 'an optimizer', d.optimizer),
    learningRate: reader.number('learningRate', LEARNING_RATE, d.learningRate),
    schedule: reader.choice('schedule', SCHEDULES, 'a learning-rate schedule', d.schedule),
    weightDecay: reader.number('weightDecay', { min: 0, max: 1 }, d.weightDecay),
  };
  reader.finish();
  return config;
}

/** imitate.groups: one of the named groupings, or a whole number of blocks from 1 to model.depth. */
function readGroups(reader: FieldReader, family: ModelFamily, depth: number): ImitationGrouping {
  const fallback = defaultImitationGroups(family);
  const value = reader.take('groups');
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (NAMED_IMITATION_GROUPINGS as readonly string[]).includes(value)) return value as ImitationGrouping;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= depth) return value;
  const field = reader.fieldPath('groups');
  const names = NAMED_IMITATION_GROUPINGS.map((n) => `"${n}"`).join(' or ');
  const accepted = `use ${names}, or a whole number of blocks from 1 to ${depth} (model.depth)`;
  if (typeof value === 'number' && Number.isInteger(value) && value > depth) {
    reader.error(field, `groups of ${value} blocks is more than the net has (model.depth is ${depth})`, `use ${depth} or fewer blocks per group, or ${names}`);
  } else if (typeof value === 'number') {
    reader.error(field, `groups must be a whole number of blocks from 1, got ${value}`, accepted);
  } else if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    reader.error(field, `groups must be a number, not a string (${JSON.stringify(value)})`, `write ${Number(value)} without quotes`);
  } else {
    reader.error(field, `${typeof value === 'string' ? JSON.stringify(value) : typeName(value)} is not an imitation grouping`, accepted);
  }
  return fallback;
}

function readImitate(reader: FieldReader, family: ModelFamily, depth: number): ImitateConfig {
  const d = DEFAULT_IMITATE;
  const config: ImitateConfig = {
    epochsPerLayer: reader.number('epochsPerLayer', { min: 0, max: 1000 }, d.epochsPerLayer),
    input: reader.choice('input', ['thin', 'wide'] as const, 'an imitation input', d.input),
    lowerLayers: reader.choice('lowerLayers', ['frozen', 'slow', 'train'] as const, 'a lower-layer policy', d.lowerLayers),
    slowFactor: reader.number('slowFactor', { min: 0, exclusiveMin: true, max: 1 }, d.slowFactor),
    normalizeTargets: reader.boolean('normalizeTargets', d.normalizeTargets),
    projectionWarmup: reader.number('projectionWarmup', { min: 0, max: 0.9 }, d.projectionWarmup),
    groups: readGroups(reader, family, depth),
    optimizer: reader.choice('optimizer', OPTIMIZERS, 'an optimizer', d.optimizer),
    learningRate: reader.number('learningRate', LEARNING_RATE, d.learningRate),
    schedule: reader.choice('schedule', SCHEDULES, 'a learning-rate schedule', d.schedule),
    batchSize: reader.number('batchSize', BATCH_SIZE, d.batchSize),
  };
  if (config.epochsPerLayer === 0) {
    reader.warn(reader.fieldPath('epochsPerLayer'), 'epochsPerLayer is 0: imitation is skipped and the three-stage arm is plain distillation', 'use 1 or more epochs per block');
  }
  reader.finish();
  return config;
}

/** The fine-tuning settings the monitor edits take their ranges from the schema, as the monitor does. */
const finetuneRule = (key: FinetuneSettingKey) => ruleFromRange(schemaRange('finetune', key));

function readFinetune(reader: FieldReader): FinetuneConfig {
  const d = DEFAULT_FINETUNE;
  const config: FinetuneConfig = {
    epochs: reader.number('epochs', finetuneRule('epochs'), d.epochs),
    kdWeight: reader.number('kdWeight', finetuneRule('kdWeight'), d.kdWeight),
    temperature: reader.number('temperature', finetuneRule('temperature'), d.temperature),
    optimizer: reader.choice('optimizer', OPTIMIZERS, 'an optimizer', d.optimizer),
    learningRate: reader.number('learningRate', finetuneRule('learningRate'), d.learningRate),
    schedule: reader.choice('schedule', SCHEDULES, 'a learning-rate schedule', d.schedule),
    batchSize: reader.number('batchSize', BATCH_SIZE, d.batchSize),
  };
  reader.finish();
  return config;
}

function readBaselines(reader: FieldReader): BaselineName[] {
  const values = reader.array('baselines');
  if (values === undefined) return [...DEFAULT_BASELINES];
  const result: BaselineName[] = [];
  values.forEach((value, i) => {
    const field = `${reader.fieldPath('baselines')}[${i}]`;
    if (!reader.checkChoice(field, value, BASELINES, 'a baseline')) return;
    if (result.includes(value)) reader.warn(field, `baseline "${value}" is listed twice`, 'list it once');
    else result.push(value);
  });
  return result;
}

function readSeeds(reader: FieldReader): number[] {
  const values = reader.array('seeds');
  if (values === undefined) return [...DEFAULT_SEEDS];
  const field = reader.fieldPath('seeds');
  if (values.length === 0) {
    reader.error(field, 'seeds is empty', 'give at least one seed, e.g. [1, 2, 3]');
    return [...DEFAULT_SEEDS];
  }
  const result: number[] = [];
  values.forEach((value, i) => {
    if (!reader.checkNumber(`${field}[${i}]`, value, { min: 0, max: 2 ** 31 - 1, integer: true, label: 'seed' })) return;
    if (result.includes(value)) reader.error(`${field}[${i}]`, `seed ${value} is listed twice`, 'use distinct seeds: a repeated seed repeats the same run');
    else result.push(value);
  });
  return result;
}

function readName(reader: FieldReader): string {
  const name = reader.string('name');
  if (name === undefined) {
    if (!reader.has('name')) reader.error('name', 'name is missing', 'add "name": a short name for the experiment, e.g. "fashion-mlp"');
    return 'experiment';
  }
  if (name.trim() === '') reader.error('name', 'name is empty', 'give the experiment a short name');
  else if (/[\\/]/.test(name)) reader.error('name', `name "${name}" contains a slash`, 'use letters, digits, "-" or "_" (the name is part of run folder names)');
  return name;
}

/** Checks across fields: data vs family, transformer heads, widened size. */
function checkCombination(reader: FieldReader, experiment: Experiment): void {
  const { model, data, widen } = experiment;
  const kind = dataKindOf(data.format);
  if (kind && !familyTakes(model.family, kind)) {
    const needs = FAMILY_DATA_KINDS[model.family];
    const formatsOf = (k: DataKind) => DATA_FORMATS.filter((format) => dataKindOf(format) === k).join(', ');
    reader.error('data.format', `"${data.format}" gives ${kind} data but model.family "${model.family}" needs ${needs.map((k) => DATA_KIND_NOUNS[k]).join(' or ')}`,
      `use ${needs.map((k) => `${k} data (${formatsOf(k)})`).join(' or ')}, or model.family ${familiesTaking(kind).map((f) => `"${f}"`).join(' or ')}`);
  }
  const shape = knownExampleShape(data.format)?.exampleShape;
  if (model.family === 'transformer' && kind === 'image' && shape) {
    const problem = patchSizeProblem(shape, model.patchSize);
    if (problem) reader.error('model.patchSize', problem.message, problem.fix);
  }
  if (model.family === 'transformer') {
    if (model.width % model.heads !== 0) {
      reader.error('model.heads', `model.width ${model.width} is not divisible by model.heads ${model.heads}`,
        `use a width that is a multiple of heads (e.g. ${Math.ceil(model.width / model.heads) * model.heads}) or heads that divide it`);
    }
    const factors = widen.perLayer ?? [widen.factor];
    factors.forEach((factor, i) => {
      const wideWidth = Math.round(model.width * factor);
      if (widen.mode === 'all' && wideWidth % model.heads !== 0) {
        reader.error(widen.perLayer ? `widen.perLayer[${i}]` : 'widen.factor', `the wide hidden size ${model.width} x ${factor} = ${wideWidth} is not divisible by model.heads ${model.heads}`,
          'use a factor that keeps width x factor a multiple of heads (whole numbers always do)');
      }
    });
  }
  const known = knownExampleShape(data.format) ?? (data.format === 'idx' ? { exampleShape: [28, 28, 1], numClasses: 10 } : undefined);
  if (!known) return;
  if ((model.family === 'cnn' || model.family === 'resnet') && known.exampleShape.length === 3) {
    const side = Math.min(known.exampleShape[0], known.exampleShape[1]);
    if (2 ** model.downsampleAt.length > side) {
      reader.error('model.downsampleAt', `${model.downsampleAt.length} halvings shrink a ${side}x${side} image below 1 pixel`, `use at most ${Math.floor(Math.log2(side))} entries`);
    }
  }
  const estimate = estimateNets(model, widen, known.exampleShape, known.numClasses, experiment.wide.batchSize);
  const size = `the wide net has about ${formatCount(estimate.wide.params)} parameters and needs about ${formatBytes(estimate.wideTrainingBytes)} to train`;
  if (estimate.wideTrainingBytes > WIDE_MEMORY_ERROR_BYTES) {
    reader.error('widen.factor', `${size}, more than the ${formatBytes(WIDE_MEMORY_ERROR_BYTES)} limit`, 'lower widen.factor, model.width or wide.batchSize');
  } else if (estimate.wideTrainingBytes > WIDE_MEMORY_WARNING_BYTES || estimate.wide.params > WIDE_PARAMS_WARNING) {
    reader.warn('widen.factor', `${size}; training it will be slow without a GPU`, 'lower widen.factor or model.width for a quicker run');
  }
  if (experiment.minWideAccuracy !== undefined && experiment.minWideAccuracy <= 1 / known.numClasses) {
    reader.warn('minWideAccuracy', `minWideAccuracy ${experiment.minWideAccuracy} is at or below chance (${(1 / known.numClasses).toFixed(2)})`, 'use a value clearly above chance, or remove it');
  }
}

/** The raw reads, also used to list every field resolve knows (see knownFieldPaths). */
function readExperiment(raw: Record<string, unknown>, experimentDir: string, ctx: ReadContext): Experiment {
  const top = new FieldReader(raw, '', ctx);
  top.take('$schema');
  top.take('sweep'); // checked point by point in resolveExperiment
  const name = readName(top);
  const description = top.string('description');
  const hasData = top.has('data');
  const hasModel = top.has('model');
  const data = readData(top.section('data'), experimentDir);
  const model = readModel(top.section('model'), dataKindOf(data.format));
  if (!hasData) top.error('data', 'data is missing', 'add "data": {"format": "shapes"} or another data set');
  if (!hasModel) top.error('model', 'model is missing', 'add "model": {"family": "mlp", "depth": 12, "width": 32}');
  const widen = readWiden(top.section('widen'), model.family, model.depth);
  const imitate = readImitate(top.section('imitate'), model.family, model.depth);
  const finetune = readFinetune(top.section('finetune'));
  const experiment: Experiment = {
    name,
    description,
    data,
    model,
    widen,
    // The paper's protocol: the wide net gets the standard schedule's optimiser settings, for a multiple
    // of the thin net's epochs from scratch (imitation + fine-tune epochs), unless the file says otherwise.
    wide: readTrain(top.section('wide'), { ...DEFAULT_WIDE, epochs: defaultWideEpochs(model.depth, imitate, finetune) }),
    imitate,
    finetune,
    baselines: readBaselines(top),
    seeds: readSeeds(top),
    backend: top.optionalChoice('backend', BACKEND_NAMES, 'a backend'),
    minWideAccuracy: top.optionalNumber('minWideAccuracy', { min: 0, max: 1 }),
  };
  if (experiment.description === undefined) delete experiment.description;
  if (experiment.backend === undefined) delete experiment.backend;
  if (experiment.minWideAccuracy === undefined) delete experiment.minWideAccuracy;
  if (experiment.data.path === undefined) delete experiment.data.path;
  if (experiment.data.testPath === undefined) delete experiment.data.testPath;
  if (experiment.data.labelColumn === undefined) delete experiment.data.labelColumn;
  checkCombination(top, experiment);
  top.finish();
  return experiment;
}

/**
 * Applies defaults to a parsed experiment file and validates every field. `filePath` is the file's
 * path: relative data paths resolve against its folder, and data folders/files are checked to exist.
 * Problems name the field path ("widen.perLayer[3]"), say what is wrong and give the fix; errors
 * leave `experiment` undefined, warnings (unknown keys, ignored fields, slow sizes) do not.
 */
export function resolveExperiment(raw: unknown, filePath: string): ResolveResult {
  const ctx: ReadContext = { problems: [], readPaths: new Set() };
  if (!isPlainObject(raw)) {
    return {
      problems: [{ field: '', message: `the file holds ${typeName(raw)}, not a JSON object`, fix: 'write the experiment as { "name": ..., "data": {...}, "model": {...} }', severity: 'error' }],
    };
  }
  const experiment = readExperiment(raw, dirname(filePath), ctx);
  const hasErrors = (problems: ExperimentProblem[]) => problems.some((p) => p.severity === 'error');
  // With errors elsewhere the sweep's points cannot be resolved, but its own shape can be checked.
  if (hasErrors(ctx.problems)) return { problems: raw.sweep === undefined ? ctx.problems : [...ctx.problems, ...sweepShapeProblems(raw.sweep)] };
  if (raw.sweep === undefined) return { experiment, problems: ctx.problems };
  const sweep = resolveSweep(raw, ctx.problems, (point) => resolveExperiment(point, filePath));
  const problems = [...ctx.problems, ...sweep.problems];
  if (hasErrors(problems) || !sweep.grid || !sweep.points) return { problems };
  return { experiment, problems, sweep: { grid: sweep.grid, points: sweep.points } };
}

/** Every field path resolve reads (array elements excluded), for tooling and the schema test. */
export function knownFieldPaths(): string[] {
  const ctx: ReadContext = { problems: [], readPaths: new Set() };
  readExperiment({}, '.', ctx);
  return [...ctx.readPaths].sort();
}
