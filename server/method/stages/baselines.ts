// The baselines the three-stage thin net ("win") is compared with: the same thin net trained from
// scratch on the labels ("scratch"), and from scratch while distilling the wide net's logits ("kd").
// Both get the thin-net epoch budget of imitation plus fine-tuning, and the standard schedule.
import { thinEpochBudget } from '../../experiment/budget';
import { BASELINES } from '../../experiment/resolve';
import type { BaselineName } from '../../experiment/types';
import type { BlockNet } from '../../models/types';
import type { PhaseName } from '../../protocol';
import { classifierSteps, trainClassifier } from '../training/classifier-phase';
import { buildThinNet, type StageContext } from '../context';

/** The distillation weight of "kd" when the fine-tune settings do not distil (finetune.kdWeight 0). */
const KD_BASELINE_WEIGHT = 0.5;

export function isBaseline(phase: PhaseName): phase is BaselineName {
  return (BASELINES as readonly PhaseName[]).includes(phase);
}

/** Thin-net epochs of the baselines: the same budget as imitation plus fine-tuning. */
export function baselineEpochs(ctx: Pick<StageContext, 'experiment'>): number {
  const e = ctx.experiment;
  return thinEpochBudget(e.model.depth, e.imitate, e.finetune);
}

/** How a baseline trains: the standard schedule (the wide net's optimiser settings, not the
 *  fine-tune settings, which are tuned for starting from a warm start) for the baseline epochs. */
function baselineSchedule(ctx: StageContext, arm: BaselineName) {
  const ft = ctx.experiment.finetune;
  const { epochs: _wideEpochs, ...standard } = ctx.experiment.wide;
  return {
    phase: arm,
    ...standard,
    epochs: baselineEpochs(ctx),
    kdWeight: arm === 'kd' ? (ft.kdWeight > 0 ? ft.kdWeight : KD_BASELINE_WEIGHT) : 0,
    temperature: ft.temperature,
  };
}

export function baselineSteps(ctx: StageContext, arm: BaselineName): number {
  return classifierSteps(ctx, baselineSchedule(ctx, arm));
}

export interface BaselineResult {
  /** The trained thin net (the caller disposes it). */
  net: BlockNet;
  seconds: number;
}

/** Trains a new thin net as baseline `arm`; `wide` is the teacher of "kd". */
export async function trainBaseline(ctx: StageContext, arm: BaselineName, wide: BlockNet | undefined): Promise<BaselineResult> {
  const net = buildThinNet(ctx);
  try {
    const result = await trainClassifier(ctx, { ...baselineSchedule(ctx, arm), net, teacher: arm === 'kd' ? wide : undefined });
    return { net, seconds: result.seconds };
  } catch (err) {
    net.dispose();
    throw err;
  }
}
