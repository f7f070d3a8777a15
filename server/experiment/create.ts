// New experiment files: the fields a user usually edits, with the defaults spelled out.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import type { CreateExperimentParams, CreateExperimentResult } from '../protocol';
import { defaultWideEpochs } from './budget';
import {
  DEFAULT_BASELINES, DEFAULT_DATA, DEFAULT_FINETUNE, DEFAULT_IMITATE, DEFAULT_MODEL, DEFAULT_SEEDS, DEFAULT_WIDE,
  defaultImitationGroups,
  defaultWiden,
} from './defaults';
import { ExperimentError } from './errors';

/** The built-in data set that suits a family when none is named. */
function defaultDataFormat(family: CreateExperimentParams['family']): string {
  return family === 'transformer' ? 'majority' : 'shapes';
}

/** Pretty JSON for a new experiment (2-space indent, trailing newline). */
export function createExperimentText(params: CreateExperimentParams): string {
  const model = DEFAULT_MODEL[params.family];
  const widen = defaultWiden(params.family);
  const data: Record<string, unknown> = { format: params.dataFormat ?? defaultDataFormat(params.family) };
  if (params.dataPath !== undefined) data.path = params.dataPath;
  data.validationSplit = DEFAULT_DATA.validationSplit;
  const depth = params.depth ?? model.depth;
  const document = {
    name: params.name,
    data,
    model: { family: params.family, depth, width: params.width ?? model.width },
    widen: { factor: params.widenFactor ?? widen.factor, mode: widen.mode },
    wide: { epochs: defaultWideEpochs(depth, DEFAULT_IMITATE, DEFAULT_FINETUNE), batchSize: DEFAULT_WIDE.batchSize, learningRate: DEFAULT_WIDE.learningRate },
    imitate: { epochsPerLayer: DEFAULT_IMITATE.epochsPerLayer, groups: defaultImitationGroups(params.family), input: DEFAULT_IMITATE.input, lowerLayers: DEFAULT_IMITATE.lowerLayers },
    finetune: { epochs: DEFAULT_FINETUNE.epochs, kdWeight: DEFAULT_FINETUNE.kdWeight, temperature: DEFAULT_FINETUNE.temperature },
    baselines: DEFAULT_BASELINES,
    seeds: DEFAULT_SEEDS,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** Writes a new experiment file; refuses to replace an existing one unless params.overwrite. */
export function createExperimentFile(params: CreateExperimentParams): CreateExperimentResult {
  const path = resolvePath(params.path);
  if (existsSync(path) && !params.overwrite) {
    throw new ExperimentError(path, [{ field: '', message: 'already exists', fix: 'choose another name, or set overwrite to replace it', severity: 'error' }]);
  }
  const text = createExperimentText(params);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return { path, text };
}
