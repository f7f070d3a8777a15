// Checks the params of each custom request before a handler sees them, so that a wrong type is
// answered with InvalidParams naming the field rather than a crash deep inside a handler.
import { BACKEND_NAMES, LAUNCHER_NAMES, MODEL_FAMILIES, STAGE_NAMES } from '../protocol';

type FieldType = 'string' | 'boolean' | 'number' | 'integer' | 'integer[]' | 'string[]' | 'object';

interface FieldSpec {
  type: FieldType;
  required?: boolean;
  oneOf?: readonly string[];
  /** The least value a number may take. */
  minimum?: number;
  /** An object's own fields, checked the same way. */
  fields?: ParamsSpec;
}

export type ParamsSpec = Record<string, FieldSpec>;

/** LaunchOptions (server/protocol.ts). */
const LAUNCH_SPEC: FieldSpec = {
  type: 'object',
  fields: {
    launcher: { type: 'string', required: true, oneOf: LAUNCHER_NAMES },
    jobs: { type: 'integer', minimum: 1 },
    slurmOptions: { type: 'string[]' },
    gpusPerJob: { type: 'integer', minimum: 0 },
    detach: { type: 'boolean' },
    maxRetries: { type: 'integer', minimum: 0 },
  },
};

/** How a stage or a sweep runs: the fields startStage and startSweep share. */
const HOW_TO_RUN: ParamsSpec = {
  resume: { type: 'boolean' },
  backend: { type: 'string', oneOf: BACKEND_NAMES },
  runsDir: { type: 'string' },
  wait: { type: 'boolean' },
  seeds: { type: 'integer[]' },
  launch: LAUNCH_SPEC,
};

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
    ...HOW_TO_RUN,
  },
  startSweep: {
    experimentPath: { type: 'string', required: true },
    stage: { type: 'string', oneOf: STAGE_NAMES },
    ...HOW_TO_RUN,
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

/** The first problem with `params` against `spec`, or undefined when they fit. Extra fields are allowed.
 *  A problem inside an object field names its path ("launch.jobs"). */
export function checkParams(params: unknown, spec: ParamsSpec, prefix = ''): ParamsProblem | undefined {
  const hasRequired = Object.values(spec).some((field) => field.required);
  if (params === undefined || params === null) {
    if (!hasRequired) return undefined;
    return { field: '', message: 'params are missing; expected an object' };
  }
  if (typeof params !== 'object' || Array.isArray(params)) {
    return { field: '', message: `params must be an object, got ${describe(params)}` };
  }
  const record = params as Record<string, unknown>;
  for (const [key, field] of Object.entries(spec)) {
    const value = record[key];
    const name = prefix + key;
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
    if (field.minimum !== undefined && (value as number) < field.minimum) {
      return { field: name, message: `"${name}" must be at least ${field.minimum}; got ${JSON.stringify(value)}` };
    }
    if (field.fields) {
      const inner = checkParams(value, field.fields, `${name}.`);
      if (inner) return inner;
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
    case 'string[]':
      return Array.isArray(value) && value.every((item) => hasType(item, 'string'));
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

function article(type: FieldType): string {
  if (type === 'integer[]') return 'a non-empty array of integers';
  if (type === 'string[]') return 'an array of strings';
  if (type === 'object') return 'an object';
  return type === 'integer' ? 'an integer' : `a ${type}`;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}
