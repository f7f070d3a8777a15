// The fine-tuning settings the imitation monitor offers, as the sidecar serves them: each one's value
// in the resolved experiment (the file's, or the default where the file has none), its default and
// its range from the schema. The extension and the webview keep no defaults or ranges of their own.
import { FINETUNE_SETTING_KEYS, type FinetuneSettingKey, type SettingField } from '../protocol';
import { DEFAULT_FINETUNE } from './defaults';
import { schemaField, schemaRange } from './setting-range';
import type { Experiment } from './types';

const LABELS: Record<FinetuneSettingKey, string> = {
  epochs: 'Epochs',
  kdWeight: 'KD weight',
  temperature: 'Temperature',
  learningRate: 'Learning rate',
};

export function finetuneSettingFields(experiment: Experiment): SettingField[] {
  return FINETUNE_SETTING_KEYS.map((key) => ({
    key,
    label: LABELS[key],
    description: schemaField('finetune', key).description ?? '',
    value: experiment.finetune[key],
    default: DEFAULT_FINETUNE[key],
    range: schemaRange('finetune', key),
  }));
}
