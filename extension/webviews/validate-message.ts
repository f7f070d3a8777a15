// Messages from a webview are untrusted input: checked here before the host acts on them. Every
// accepted message is rebuilt from its known fields (anything else is dropped), numbers must lie in
// the experiment schema's ranges, run ids must have the shape of a run folder name, and in an
// untrusted workspace a view cannot start training.
import type { FinetuneSettings, FromWebviewMessage, StageName } from '../../server/protocol';

const STAGES: readonly StageName[] = ['wide', 'imitate', 'finetune', 'baselines', 'all'];
/** The ranges of gowide.schema.json (finetune.*, widen.factor); a test keeps them equal. */
export const SETTING_RANGES: Readonly<Record<keyof FinetuneSettings, { min: number; max: number; exclusiveMin?: boolean }>> = {
  epochs: { min: 0, max: 10000 },
  kdWeight: { min: 0, max: 1 },
  temperature: { min: 0, max: 100, exclusiveMin: true },
  learningRate: { min: 0, max: 10, exclusiveMin: true },
};
export const FACTOR_RANGE = { min: 1, max: 64 };
/** Exports are text or a PNG data URL: refuse anything larger. */
export const MAX_EXPORT_CHARS = 20_000_000;

export type Checked = { ok: true; message: FromWebviewMessage } | { ok: false; reason: string };

export interface MessageContext {
  /** vscode.workspace.isTrusted: false refuses messages that start training. */
  trusted?: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A run id as the runs store makes them (names.ts): no path separators, no "..". */
const isRunId = (v: unknown): v is string => typeof v === 'string' && v.length < 256 && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v) && !v.includes('..');
const inRange = (v: unknown, r: { min: number; max: number; exclusiveMin?: boolean }): v is number =>
  typeof v === 'number' && Number.isFinite(v) && (r.exclusiveMin ? v > r.min : v >= r.min) && v <= r.max;

export function checkFromWebviewMessage(value: unknown, context: MessageContext = {}): Checked {
  if (!isRecord(value) || typeof value.type !== 'string') return { ok: false, reason: 'not an object with a type' };
  const fail = (reason: string): Checked => ({ ok: false, reason: `${String(value.type).slice(0, 40)}: ${reason}` });
  switch (value.type) {
    case 'ready':
      return { ok: true, message: { type: 'ready' } };
    case 'setFactor': {
      const { block, factor } = value;
      if (!(block === 'all' || (typeof block === 'number' && Number.isInteger(block) && block >= 0 && block < 100_000))) return fail('block must be "all" or a block index');
      if (!inRange(factor, FACTOR_RANGE)) return fail(`factor must be a number from ${FACTOR_RANGE.min} to ${FACTOR_RANGE.max}`);
      return { ok: true, message: { type: 'setFactor', block, factor } };
    }
    case 'startStage': {
      if (!STAGES.includes(value.stage as StageName)) return fail(`stage must be one of ${STAGES.join(', ')}`);
      if (context.trusted === false) return fail('training needs a trusted workspace (Manage Workspace Trust)');
      if (value.settings === undefined) return { ok: true, message: { type: 'startStage', stage: value.stage as StageName } };
      if (!isRecord(value.settings)) return fail('settings must be an object');
      const settings: Record<string, number> = {};
      for (const [key, v] of Object.entries(value.settings)) {
        if (!Object.prototype.hasOwnProperty.call(SETTING_RANGES, key)) return fail(`unknown setting ${key.slice(0, 40)}`);
        const range = SETTING_RANGES[key as keyof FinetuneSettings];
        if (!inRange(v, range)) return fail(`${key} must be a number ${range.exclusiveMin ? 'above' : 'from'} ${range.min} ${range.exclusiveMin ? 'and at most' : 'to'} ${range.max}`);
        settings[key] = v;
      }
      return { ok: true, message: { type: 'startStage', stage: value.stage as StageName, settings } };
    }
    case 'stop':
      return isRunId(value.runId) ? { ok: true, message: { type: 'stop', runId: value.runId } } : fail('runId must be a run folder name');
    case 'selectRun':
      return isRunId(value.runId) ? { ok: true, message: { type: 'selectRun', runId: value.runId } } : fail('runId must be a run folder name');
    case 'export': {
      const { format, data, fileName } = value;
      if (format !== 'csv' && format !== 'png') return fail('format must be csv or png');
      if (typeof data !== 'string' || data.length > MAX_EXPORT_CHARS) return fail('data must be a string (at most 20 MB)');
      if (format === 'png' && !/^data:image\/png;base64,[A-Za-z0-9+/]*={0,2}$/.test(data)) return fail('png data must be a data:image/png;base64 URL');
      if (fileName !== undefined && !(typeof fileName === 'string' && fileName.length < 256 && /^[\w-][\w.-]*$/.test(fileName) && fileName.endsWith(`.${format}`))) {
        return fail(`fileName must be a plain file name ending in .${format}`);
      }
      return { ok: true, message: fileName === undefined ? { type: 'export', format, data } : { type: 'export', format, data, fileName } };
    }
    default:
      return { ok: false, reason: `unknown message type ${JSON.stringify(value.type).slice(0, 40)}` };
  }
}
