// Checking the fine-tuning settings the monitor lets the user edit before launching the stage, against
// the ranges the sidecar served with them (from the experiment schema).
import type { FinetuneSettingKey, FinetuneSettings, SettingField } from '../../server/protocol';
import { describeBounds, rangeProblem } from '../../server/experiment/setting-range';

export type ParsedSettings =
  | { ok: true; settings: FinetuneSettings }
  | { ok: false; problems: Partial<Record<FinetuneSettingKey, string>> };

/** The form's label of a field, with its range. */
export function fieldLabel(field: SettingField): string {
  return `${field.label} (${describeBounds(field.range)})`;
}

export function parseSettingFields(fields: readonly SettingField[], texts: Partial<Record<FinetuneSettingKey, string>>): ParsedSettings {
  const problems: Partial<Record<FinetuneSettingKey, string>> = {};
  const settings = {} as FinetuneSettings;
  for (const field of fields) {
    const text = (texts[field.key] ?? '').trim();
    const value = text === '' ? NaN : Number(text);
    const problem = rangeProblem(field.range, value);
    if (problem) problems[field.key] = problem;
    else settings[field.key] = value;
  }
  return Object.keys(problems).length > 0 ? { ok: false, problems } : { ok: true, settings };
}
