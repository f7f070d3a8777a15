// Checks the params of each custom request before a handler sees them, so that a wrong type is
// answered with InvalidParams naming the field rather than a crash deep inside a handler.
import { BACKEND_NAMES, MODEL_FAMILIES, STAGE_NAMES } from '../protocol';

type FieldType = 'string' | 'boolean' | 'number' | 'integer' | 'integer[]';

interface FieldSpec {
  type: FieldType;
  required?: boolean;
  oneOf?: readonly string[];
}

export type ParamsSpec = Record<string, FieldSpec>;

export interface ParamsProblem {
  field: string;
  message: string;
}


export const PARAMS_SPECS = {
  engineInfo: { refresh: { type: 'boolean' } },
  selectBackend: { backend: { type: 'string', required: true, oneOf: BACKEND_NAMES } },
  validateExperiment: { path: { type: 'string', required: true }, text: { type: 'string' } },
  netSizes: { path: { type: 'string', required: true }, text: { type: 'string' } },
  finetuneSettings: { path: { type: 'string', required: true } },
  createExperiment: {
    path: { type: 'string', required: true },
    name: { type: 'string', required: true },
    family: { type: 'string', required: true, oneOf: MODEL_FAMILIES },
    depth: { type: 'integer' },
    width: { type: 'integer' },
    dataFormat: { type: 'string' },
    dataPath: { type: 'string' },
    widenFactor: { type: 'number' },
    overwrite: { type: 'boolean' },
  },
  startStage: {
    experimentPath: { type: 'string', required: true },
    stage: { type: 'string', required: true, oneOf: STAGE_NAMES },
    runId: { type: 'string' },
    resume: { type: 'boolean' },
    backend: { type: 'string', oneOf: BACKEND_NAMES },
    runsDir: { type: 'string' },
    wait: { type: 'boolean' },
    seeds: { type: 'integer[]' },
  },
  startSweep: {
    experimentPath: { type: 'string', required: true },
    stage: { type: 'string', oneOf: STAGE_NAMES },
    resume: { type: 'boolean' },
    backend: { type: 'string', oneOf: BACKEND_NAMES },
    runsDir: { type: 'string' },
    wait: { type: 'boolean' },
    seeds: { type: 'integer[]' },
  },
  sweepResults: { experimentPath: { type: 'string', required: true }, runsDir: { type: 'string' } },
  stop: { runId: { type: 'string', required: true }, runsDir: { type: 'string' } },
  listRuns: { experimentPath: { type: 'string' }, runsDir: { type: 'string' } },
  getMetrics: { runId: { type: 'string', required: true }, runsDir: { type: 'string' }, afterSeq: { type: 'integer' } },
  deleteRun: { runId: { type: 'string', required: true }, runsDir: { type: 'string' }, experimentPath: { type: 'string' } },
  exportModel: {
    runId: { type: 'string', required: true },
    runsDir: { type: 'string' },
    experimentPath: { type: 'string' },
    destination: { type: 'string', required: true },
    overwrite: { type: 'boolean' },
  },
} satisfies Record<string, ParamsSpec>;

/** The first problem with `params` against `spec`, or undefined when they fit. Extra fields are allowed. */
export function checkParams(params: unknown, spec: ParamsSpec): ParamsProblem | undefined {
  const hasRequired = Object.values(spec).some((field) => field.required);
  if (params === undefined || params === null) {
    if (!hasRequired) return undefined;
    return { field: '', message: 'params are missing; expected an object' };
  }
  if (typeof params !== 'object' || Array.isArray(params)) {
    return { field: '', message: `params must be an object, got ${describe(params)}` };
  }
  const record = params as Record<string, unknown>;
  for (const [name, field] of Object.entries(spec)) {
    const value = record[name];
    if (value === undefined || value === null) {
      if (field.required) return { field: name, message: `"${name}" is required (${field.type})` };
      continue;
    }
    if (!hasType(value, field.type)) {
      return { field: name, message: `"${name}" must be ${article(field.type)}, got ${describe(value)}` };
    }
    if (field.oneOf && !field.oneOf.includes(value as string)) {
      return { field: name, message: `"${name}" must be one of ${field.oneOf.join(', ')}; got ${JSON.stringify(value)}` };
    }
  }
  return undefined;
}

function hasType(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'integer[]':
      return Array.isArray(value) && value.length > 0 && value.every((item) => hasType(item, 'integer'));
  }
}

function article(type: FieldType): string {
  if (type === 'integer[]') return 'a non-empty array of integers';
  return type === 'integer' ? 'an integer' : `a ${type}`;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}
