// The honest comparison's budget (METHOD.md): the thin net trained from scratch gets as many epochs as
// the three-stage thin net spends in imitation plus fine-tuning, and the wide net gets that same
// standard schedule unless the experiment says otherwise.
import type { FinetuneConfig, ImitateConfig } from './types';

export function thinEpochBudget(
  depth: number,
  imitate: Pick<ImitateConfig, 'epochsPerLayer'>,
  finetune: Pick<FinetuneConfig, 'epochs'>,
): number {
  return depth * imitate.epochsPerLayer + finetune.epochs;
}

/** Default wide-net epochs: the thin budget, rounded up to whole epochs. */
export function defaultWideEpochs(depth: number, imitate: Pick<ImitateConfig, 'epochsPerLayer'>, finetune: Pick<FinetuneConfig, 'epochs'>): number {
  return Math.max(1, Math.ceil(thinEpochBudget(depth, imitate, finetune)));
}
