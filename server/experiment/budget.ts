// The honest comparison's budget (METHOD.md): the thin net trained from scratch gets as many epochs as
// the three-stage thin net spends in imitation plus fine-tuning; the wide net, trained towards
// convergence, gets a multiple of it unless the experiment says otherwise.
import { WIDE_EPOCHS_PER_THIN_EPOCH } from './defaults';
import type { FinetuneConfig, ImitateConfig } from './types';

export function thinEpochBudget(
  depth: number,
  imitate: Pick<ImitateConfig, 'epochsPerLayer'>,
  finetune: Pick<FinetuneConfig, 'epochs'>,
): number {
  return depth * imitate.epochsPerLayer + finetune.epochs;
}

/** Default wide-net epochs: WIDE_EPOCHS_PER_THIN_EPOCH x the thin budget, rounded up to whole epochs. */
export function defaultWideEpochs(depth: number, imitate: Pick<ImitateConfig, 'epochsPerLayer'>, finetune: Pick<FinetuneConfig, 'epochs'>): number {
  return Math.max(1, Math.ceil(WIDE_EPOCHS_PER_THIN_EPOCH * thinEpochBudget(depth, imitate, finetune)));
}
