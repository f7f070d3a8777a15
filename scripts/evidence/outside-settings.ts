// The pre-registered list of settings outside the study (issue 17, item 5): decided and committed before
// any of them ran. Each sets only the data, the thin net and the widening factor; every method setting
// (schedules, imitation, fine-tune, epoch budget) comes from gowide's defaults. Every result is
// reported, losses included (`npm run evidence:outside`, docs/EVIDENCE.md).
import type { BaselineName, ModelFamily } from '../../server/protocol';

export interface OutsideSetting {
  id: string;
  /** Why the setting is on the list. */
  title: string;
  /** trainLimit is the training pool before the validation split (10% of it, by default) is held out. */
  data: { format: 'fashion-mnist'; trainLimit: number; testLimit: number };
  /** normalization only for the plain CNN, where it tells the plain net from the BatchNorm one; heads
   *  and patchSize only for transformers (the token grid is part of the net's shape). */
  model: { family: ModelFamily; depth: number; width: number; normalization?: boolean; heads?: number; patchSize?: number };
  widen: { factor: number };
}

export const OUTSIDE_BASELINES: BaselineName[] = ['scratch', 'kd'];
export const OUTSIDE_SEEDS = [1, 2];


const fashion = (trainLimit: number) => ({ format: 'fashion-mnist' as const, trainLimit, testLimit: 3000 });

export const OUTSIDE_SETTINGS: OutsideSetting[] = [
  {
    id: 'mlp-30x16',
    title: 'very deep, very thin MLP (lost in session 4)',
    data: fashion(6000),
    model: { family: 'mlp', depth: 30, width: 16 },
    widen: { factor: 4 },
  },
  {
    id: 'mlp-10x48',
    title: 'shallower, wider MLP, odd factor',
    data: fashion(6000),
    model: { family: 'mlp', depth: 10, width: 48 },
    widen: { factor: 3 },
  },
  {
    id: 'mlp-20x24',
    title: 'deep MLP on more data, small factor',
    data: fashion(13333),
    model: { family: 'mlp', depth: 20, width: 24 },
    widen: { factor: 2 },
  },
  {
    id: 'mlp-12x32',
    title: 'gowide\'s default MLP shape on less data, large factor',
    data: fashion(3000),
    model: { family: 'mlp', depth: 12, width: 32 },
    widen: { factor: 8 },
  },
  {
    id: 'cnn-6x8',
    title: 'very thin plain CNN',
    data: fashion(3000),
    model: { family: 'cnn', depth: 6, width: 8, normalization: false },
    widen: { factor: 4 },
  },
  {
    id: 'cnn-10x12',
    title: 'deeper thin plain CNN',
    data: fashion(3000),
    model: { family: 'cnn', depth: 10, width: 12, normalization: false },
    widen: { factor: 4 },
  },
  {
    id: 'cnn-bn-6x12',
    title: 'CNN with BatchNorm',
    data: fashion(3000),
    model: { family: 'cnn', depth: 6, width: 12, normalization: true },
    widen: { factor: 4 },
  },
  {
    id: 'cnn-bn-8x8',
    title: 'very thin CNN with BatchNorm, small factor',
    data: fashion(6000),
    model: { family: 'cnn', depth: 8, width: 8, normalization: true },
    widen: { factor: 2 },
  },
  {
    id: 'resnet-9x12',
    title: 'deeper residual CNN, starved of epochs',
    data: fashion(3000),
    model: { family: 'resnet', depth: 9, width: 12 },
    widen: { factor: 4 },
  },
  {
    id: 'resnet-4x8',
    title: 'shallow, very thin residual CNN',
    data: fashion(6000),
    model: { family: 'resnet', depth: 4, width: 8 },
    widen: { factor: 4 },
  },
  // Added in session 10, before any of them ran, when transformers changed their default widening to
  // "inside" on the study's one transformer: these check that choice where it was not made.
  {
    id: 'transformer-8x16',
    title: 'deep, very thin transformer (2 heads of 8)',
    data: fashion(3000),
    model: { family: 'transformer', depth: 8, width: 16, heads: 2, patchSize: 7 },
    widen: { factor: 4 },
  },
  {
    id: 'transformer-4x32',
    title: 'shallow transformer on 49 small patches, more data, small factor',
    data: fashion(6000),
    model: { family: 'transformer', depth: 4, width: 32, heads: 4, patchSize: 4 },
    widen: { factor: 2 },
  },
  {
    id: 'transformer-12x24',
    title: 'very deep thin transformer, odd factor',
    data: fashion(6000),
    model: { family: 'transformer', depth: 12, width: 24, heads: 3, patchSize: 7 },
    widen: { factor: 3 },
  },
];

/** The goal: win ahead of scratch (paired mean over the seeds above 0) on at least this many of a list
 *  of `listed` settings: the bar of 7 of 8, scaled to the list's length and rounded up. */
export const outsideGoal = (listed: number) => Math.ceil((7 / 8) * listed);

/** The experiment file of a setting: its data, net and factor, the baselines and seeds, nothing else. */
export function outsideExperiment(s: OutsideSetting, seeds: number[] = OUTSIDE_SEEDS): Record<string, unknown> {
  return {
    name: `outside-${s.id}`,
    description: `Outside the study (pre-registered, docs/EVIDENCE.md): ${s.title}. Only data, net and factor set.`,
    data: s.data,
    model: s.model,
    widen: s.widen,
    baselines: OUTSIDE_BASELINES,
    seeds,
  };
}

export function outsideById(ids: string[] | undefined): OutsideSetting[] {
  if (!ids) return OUTSIDE_SETTINGS;
  const unknown = ids.filter((id) => !OUTSIDE_SETTINGS.some((s) => s.id === id));
  if (unknown.length > 0) throw new Error(`--only: unknown setting ${unknown.join(', ')}; use ${OUTSIDE_SETTINGS.map((s) => s.id).join(', ')}`);
  return OUTSIDE_SETTINGS.filter((s) => ids.includes(s.id));
}
