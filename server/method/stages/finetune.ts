// Stage 3: fine-tune the imitated thin net end to end on the task with the fine-tune settings. The
// wide net is the teacher: its logits are distilled only when finetune.kdWeight > 0.
import type { BlockNet } from '../../models/types';
import { classifierSteps, trainClassifier } from '../training/classifier-phase';
import type { StageContext } from '../context';

export interface FineTuneResult {
  seconds: number;
}

/** Fine-tunes `thin` in place. */
export async function fineTune(ctx: StageContext, thin: BlockNet, wide: BlockNet): Promise<FineTuneResult> {
  const result = await trainClassifier(ctx, { phase: 'finetune', net: thin, ...ctx.experiment.finetune, teacher: wide });
  return { seconds: result.seconds };
}

export function fineTuneSteps(ctx: StageContext): number {
  return classifierSteps(ctx, ctx.experiment.finetune);
}
