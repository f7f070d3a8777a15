// Checking the fine-tuning settings the monitor lets the user edit before launching the stage.
import type { FinetuneSettings } from '../../server/protocol';

export const FINETUNE_FIELDS: { key: keyof FinetuneSettings; label: string }[] = [
  { key: 'epochs', label: 'Epochs' },
  { key: 'kdWeight', label: 'KD weight (0..1)' },
  { key: 'temperature', label: 'Temperature' },
  { key: 'learningRate', label: 'Learning rate' },
];

/** Why a value is refused, or undefined when it is fine. */
export function finetuneProblem(key: keyof FinetuneSettings, value: number): string | undefined {
  if (!Number.isFinite(value)) return 'not a number';
  switch (key) {
    case 'epochs':
      return Number.isInteger(value) && value >= 1 ? undefined : 'a whole number of epochs, 1 or more';
    case 'kdWeight':
      return value >= 0 && value <= 1 ? undefined : 'between 0 (cross-entropy only) and 1';
    case 'temperature':
      return value > 0 ? undefined : 'above 0';
    case 'learningRate':
      return value > 0 && value <= 10 ? undefined : 'above 0 and at most 10';
  }
}

export function parseFinetuneSettings(texts: Record<keyof FinetuneSettings, string>):
  { ok: true; settings: FinetuneSettings } | { ok: false; problems: Partial<Record<keyof FinetuneSettings, string>> } {
  const problems: Partial<Record<keyof FinetuneSettings, string>> = {};
  const settings = {} as FinetuneSettings;
  for (const { key } of FINETUNE_FIELDS) {
    const text = texts[key].trim();
    const value = text === '' ? NaN : Number(text);
    const problem = finetuneProblem(key, value);
    if (problem) problems[key] = problem;
    else settings[key] = value;
  }
  return Object.keys(problems).length > 0 ? { ok: false, problems } : { ok: true, settings };
}
