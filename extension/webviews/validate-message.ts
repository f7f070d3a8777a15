// Messages from a webview are untrusted input: checked here before the host acts on them. Every
// accepted message is rebuilt from its known fields (anything else is dropped), numbers must lie in
// the experiment schema's ranges (setting-range.ts), run ids must have the shape of a run folder name, and in an
// untrusted workspace a view cannot start training.
import { FINETUNE_SETTING_KEYS, STAGE_NAMES, type FromWebviewMessage, type NumberRange, type StageName } from '../../server/protocol';
import { describeRange, rangeProblem, schemaRange } from '../../server/experiment/setting-range';

/** The fine-tuning settings a view may send, with the schema's ranges. */
const SETTING_RANGES: ReadonlyMap<string, NumberRange> = new Map(FINETUNE_SETTING_KEYS.map((key) => [key, schemaRange('finetune', key)]));
const FACTOR_RANGE = schemaRange('widen', 'factor');
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
const inRange = (v: unknown, r: NumberRange): v is number => typeof v === 'number' && rangeProblem(r, v) === undefined;

export function checkFromWebviewMessage(value: unknown, context: MessageContext = {}): Checked {
  if (!isRecord(value) || typeof value.type !== 'string') return { ok: false, reason: 'not an object with a type' };
  const fail = (reason: string): Checked => ({ ok: false, reason: `${String(value.type).slice(0, 40)}: ${reason}` });
  switch (value.type) {
    case 'ready':
      return { ok: true, message: { type: 'ready' } };
    case 'setFactor': {
      const { block, factor } = value;
      if (!(block === 'all' || (typeof block === 'number' && Number.isInteger(block) && block >= 0 && block < 100_000))) return fail('block must be "all" or a block index');
      if (!inRange(factor, FACTOR_RANGE)) return fail(`factor must be ${describeRange(FACTOR_RANGE)}`);
      return { ok: true, message: { type: 'setFactor', block, factor } };
    }
    case 'startSweep': {
      const { factors } = value;
      if (!Array.isArray(factors) || factors.length === 0 || factors.length > 64) return fail('factors must be a list of 1 to 64 factors');
      if (!factors.every((f) => inRange(f, FACTOR_RANGE))) return fail(`every factor must be ${describeRange(FACTOR_RANGE)}`);
      if (context.trusted === false) return fail('training needs a trusted workspace (Manage Workspace Trust)');
      return { ok: true, message: { type: 'startSweep', factors: factors as number[] } };
    }
    case 'startStage': {
      if (!(STAGE_NAMES as readonly string[]).includes(value.stage as string)) return fail(`stage must be one of ${STAGE_NAMES.join(', ')}`);
      if (context.trusted === false) return fail('training needs a trusted workspace (Manage Workspace Trust)');
      if (value.settings === undefined) return { ok: true, message: { type: 'startStage', stage: value.stage as StageName } };
      if (!isRecord(value.settings)) return fail('settings must be an object');
      const settings: Record<string, number> = {};
      for (const [key, v] of Object.entries(value.settings)) {
        const range = SETTING_RANGES.get(key);
        if (!range) return fail(`unknown setting ${key.slice(0, 40)}`);
        if (!inRange(v, range)) return fail(`${key} must be ${describeRange(range)}`);
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
