// Messages from a webview are untrusted input: checked here before the host acts on them.
import type { FinetuneSettings, FromWebviewMessage, StageName } from '../../server/protocol';

const STAGES: readonly StageName[] = ['wide', 'imitate', 'finetune', 'baselines', 'all'];
const SETTING_KEYS: readonly (keyof FinetuneSettings)[] = ['epochs', 'kdWeight', 'temperature', 'learningRate'];
/** Exports are text or a PNG data URL: refuse anything larger. */
export const MAX_EXPORT_CHARS = 20_000_000;

export type Checked = { ok: true; message: FromWebviewMessage } | { ok: false; reason: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length < 512;

export function checkFromWebviewMessage(value: unknown): Checked {
  if (!isRecord(value) || typeof value.type !== 'string') return { ok: false, reason: 'not an object with a type' };
  const fail = (reason: string): Checked => ({ ok: false, reason: `${String(value.type)}: ${reason}` });
  switch (value.type) {
    case 'ready':
      return { ok: true, message: { type: 'ready' } };
    case 'setFactor': {
      const { block, factor } = value;
      if (!(block === 'all' || (typeof block === 'number' && Number.isInteger(block) && block >= 0))) return fail('block must be "all" or a block index');
      if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) return fail('factor must be a number, 1 or more');
      return { ok: true, message: { type: 'setFactor', block, factor } };
    }
    case 'startStage': {
      if (!STAGES.includes(value.stage as StageName)) return fail(`stage must be one of ${STAGES.join(', ')}`);
      if (value.settings === undefined) return { ok: true, message: { type: 'startStage', stage: value.stage as StageName } };
      if (!isRecord(value.settings)) return fail('settings must be an object');
      const settings: Record<string, number> = {};
      for (const [key, v] of Object.entries(value.settings)) {
        if (!SETTING_KEYS.includes(key as keyof FinetuneSettings)) return fail(`unknown setting ${key}`);
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return fail(`${key} must be a number, 0 or more`);
        settings[key] = v;
      }
      return { ok: true, message: { type: 'startStage', stage: value.stage as StageName, settings } };
    }
    case 'stop':
      return isName(value.runId) ? { ok: true, message: { type: 'stop', runId: value.runId } } : fail('runId must be a run name');
    case 'selectRun':
      return isName(value.runId) ? { ok: true, message: { type: 'selectRun', runId: value.runId } } : fail('runId must be a run name');
    case 'export': {
      const { format, data, fileName } = value;
      if (format !== 'csv' && format !== 'png') return fail('format must be csv or png');
      if (typeof data !== 'string' || data.length > MAX_EXPORT_CHARS) return fail('data must be a string (at most 20 MB)');
      if (format === 'png' && !data.startsWith('data:image/png;base64,')) return fail('png data must be a data:image/png;base64 URL');
      if (fileName !== undefined && !(isName(fileName) && /^[\w.-]+$/.test(fileName))) return fail('fileName must be a plain file name');
      return { ok: true, message: fileName === undefined ? { type: 'export', format, data } : { type: 'export', format, data, fileName } };
    }
    default:
      return { ok: false, reason: `unknown message type ${JSON.stringify(value.type).slice(0, 40)}` };
  }
}
