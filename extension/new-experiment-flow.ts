// The guided New Experiment flow after the name and family: depth, width, data set, widening factor.
// Returns the CreateExperimentParams fields, or undefined when the user cancels.
import type { CreateExperimentParams, ModelFamily } from '../server/protocol';
import { dataKindOf } from '../server/data/load';
import { DEFAULT_MODEL, defaultWiden } from '../server/experiment/defaults';
import { familiesTaking } from '../server/models/family-data';
import type { Ui } from './ui';

type Choices = Pick<CreateExperimentParams, 'depth' | 'width' | 'dataFormat' | 'dataPath' | 'widenFactor'>;

interface DataChoice {
  format: string;
  detail: string;
  families: ModelFamily[];
  /** Asks for a folder (idx) or file (csv). */
  needsPath?: 'folder' | 'file';
}

/** The families that take a format's data (server/models/family-data.ts). */
const familiesFor = (format: string): ModelFamily[] => {
  const kind = dataKindOf(format);
  return kind ? familiesTaking(kind) : [];
};
export const DATA_CHOICES: DataChoice[] = [
  { format: 'shapes', detail: 'Built-in 16x16 stroke shapes, generated offline (quick to train)', families: familiesFor('shapes') },
  { format: 'fashion-mnist', detail: 'Fashion-MNIST from /usr/share/datasets/fashion-mnist (Debian dataset-fashion-mnist)', families: familiesFor('fashion-mnist') },
  { format: 'idx', detail: 'An MNIST-style folder of IDX files', families: familiesFor('idx'), needsPath: 'folder' },
  { format: 'csv', detail: 'A CSV file of features with a label column', families: familiesFor('csv'), needsPath: 'file' },
  { format: 'majority', detail: 'Built-in token sequences (majority vote)', families: familiesFor('majority') },
];

export function integerProblem(text: string, min: number, max: number): string | undefined {
  const value = Number(text);
  return Number.isInteger(value) && value >= min && value <= max ? undefined : `a whole number from ${min} to ${max}`;
}

export function factorProblem(text: string): string | undefined {
  const value = Number(text);
  return Number.isFinite(value) && value >= 1 && value <= 64 ? undefined : 'a number from 1 to 64 (how many times wider the wide net is)';
}

export async function askExperimentShape(ui: Ui, family: ModelFamily): Promise<Choices | undefined> {
  const defaults = DEFAULT_MODEL[family];
  const depth = await ui.input({ title: 'New Experiment: depth', prompt: 'Blocks of the thin net (layers for mlp/cnn)', value: String(defaults.depth), validate: (t) => integerProblem(t, 1, 200) });
  if (depth === undefined) return undefined;
  const width = await ui.input({ title: 'New Experiment: width', prompt: 'Width of the thin net (units, channels or hidden size)', value: String(defaults.width), validate: (t) => integerProblem(t, 1, 4096) });
  if (width === undefined) return undefined;
  const data = await ui.pick(
    DATA_CHOICES.filter((d) => d.families.includes(family)).map((d) => ({ label: d.format, detail: d.detail, value: d })),
    { title: 'New Experiment: data set' },
  );
  if (!data) return undefined;
  let dataPath: string | undefined;
  if (data.needsPath) {
    dataPath = await ui.input({
      title: `New Experiment: ${data.format} ${data.needsPath}`,
      prompt: `Path of the ${data.needsPath}, relative to the experiment file's folder or absolute`,
      validate: (t) => (t.trim() ? undefined : 'a path is needed'),
    });
    if (dataPath === undefined) return undefined;
  }
  const factor = await ui.input({ title: 'New Experiment: widening factor', prompt: 'How many times wider the wide net is, per block', value: String(defaultWiden(family).factor), validate: factorProblem });
  if (factor === undefined) return undefined;
  return { depth: Number(depth), width: Number(width), dataFormat: data.format, dataPath: dataPath?.trim(), widenFactor: Number(factor) };
}
