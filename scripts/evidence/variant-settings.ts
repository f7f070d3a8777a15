// Variants of the method's defaults, measured on the pre-registered settings outside the study
// (`npm run evidence:variants`, docs/EVIDENCE.md). A variant names the experiment fields it sets on top
// of a setting's own experiment file (outside-settings.ts); every variant keeps the thin arms' epoch
// budget (depth x imitate.epochsPerLayer + finetune.epochs), so its scratch arm is the default's and
// its win - scratch compares with the list's own run seed by seed.
import { thinEpochBudget } from '../../server/experiment/budget';
import type { Experiment, FinetuneConfig, ImitateConfig, WidenConfig } from '../../server/experiment/types';
import type { BaselineName } from '../../server/protocol';
import { checkedExperiment, experimentText } from './example-file';
import { resolveOutside } from './outside-report';
import { outsideExperiment, type OutsideSetting } from './outside-settings';

/** The sections a variant may set, each merged over the setting file's own section. */
export interface VariantOverrides {
  widen?: Partial<WidenConfig>;
  imitate?: Partial<ImitateConfig>;
  finetune?: Partial<FinetuneConfig>;
}

export interface MethodVariant {
  name: string;
  /** What it changes, for the table's legend. */
  title: string;
  /** The fields it sets, given the setting's experiment resolved with the defaults. */
  overrides: (defaults: Experiment) => VariantOverrides;
}

/** Scratch only: it is the win arm the variant changes; scratch keeps each result paired by seed. */
export const VARIANT_BASELINES: BaselineName[] = ['scratch'];

const groupsOf = (k: number): MethodVariant => ({
  name: `groups-${k}`,
  title: `imitate in groups of ${k} consecutive blocks (imitate.groups ${k}): only each group's last output is matched`,
  overrides: () => ({ imitate: { groups: k } }),
});

export const METHOD_VARIANTS: MethodVariant[] = [
  groupsOf(2),
  groupsOf(3),
  {
    name: 'finetune-share',
    title: 'half of the imitation epochs moved to fine-tuning: imitate.epochsPerLayer halved, finetune.epochs raised by depth x the epochs removed per block',
    overrides: (e) => {
      const moved = e.imitate.epochsPerLayer / 2;
      return { imitate: { epochsPerLayer: e.imitate.epochsPerLayer - moved }, finetune: { epochs: e.finetune.epochs + e.model.depth * moved } };
    },
  },
  {
    name: 'widen-whole',
    title: 'whole layers widened (widen.mode "all": block outputs widened too, imitated through thin->wide projections, the thin head fitted alone): the transformers\' default until session 10',
    overrides: () => ({ widen: { mode: 'all' } }),
  },
  {
    // A deep thin net's training is chaotic enough that the same seed, file and code moved by up to
    // 2 points on another machine (session 14): the list's own run, made elsewhere, may not pair.
    name: 'defaults',
    title: 'nothing changed: the defaults, run beside the variants on the same machine and commit, so every column pairs with its scratch arm',
    overrides: () => ({}),
  },
];

export function variantsByName(names: string[] | undefined): MethodVariant[] {
  if (!names) return METHOD_VARIANTS;
  const unknown = names.filter((n) => !METHOD_VARIANTS.some((v) => v.name === n));
  if (unknown.length > 0) throw new Error(`--variants: unknown variant ${unknown.join(', ')}; use ${METHOD_VARIANTS.map((v) => v.name).join(', ')}`);
  return METHOD_VARIANTS.filter((v) => names.includes(v.name));
}

export interface VariantFile {
  /** The experiment file as written into the runs folder. */
  file: Record<string, unknown>;
  /** The same, with every default filled in by the experiment checker. */
  experiment: Experiment;
}

/** The setting's experiment file with the variant's fields set and scratch as its only baseline;
 *  throws when it does not check or changes the thin arms' epoch budget. */
export function variantFile(s: OutsideSetting, v: MethodVariant, seeds?: number[]): VariantFile {
  const base = outsideExperiment(s, seeds);
  const defaults = resolveOutside(s, seeds);
  const sections = Object.fromEntries(
    Object.entries(v.overrides(defaults)).map(([key, fields]) => [key, { ...(base[key] as object | undefined), ...fields }]),
  );
  const name = `variant-${v.name}-${s.id}`;
  const file = { ...base, ...sections, name, description: `${base.description} Variant ${v.name}: ${v.title}.`, baselines: VARIANT_BASELINES };
  const experiment = checkedExperiment(experimentText(file), `${name}.gowide.json`, `variant ${v.name} of ${s.id}`);
  const budgets = [defaults, experiment].map((e) => thinEpochBudget(e.model.depth, e.imitate, e.finetune));
  if (Math.abs(budgets[0] - budgets[1]) > 1e-9) {
    throw new Error(`variant ${v.name} gives ${s.id} a thin budget of ${budgets[1]} epochs, not the default's ${budgets[0]}: its scratch arm would not be the default's; keep depth x imitate.epochsPerLayer + finetune.epochs`);
  }
  return { file, experiment };
}
