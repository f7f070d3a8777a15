// The baselines the three-stage thin net ("win") is compared with: the same thin net trained from
// scratch on the labels ("scratch"), and from scratch while distilling the wide net's logits ("kd"),
// both at the thin-net epoch budget of imitation plus fine-tuning with the standard schedule; and the
// matched controls, which train the same way for another budget: win's optimisation steps
// ("scratch-steps", "kd-steps") or win's training FLOPs ("scratch-compute").
import { thinEpochBudget } from '../../experiment/budget';
import { BASELINE_NAMES, type BaselineName, type PhaseName } from '../../protocol';
import type { BlockNet } from '../../models/types';
import { classifierSteps, trainClassifier } from '../training/classifier-phase';
import { buildThinNet, buildWideNet, type StageContext } from '../context';
import { fineTuneSteps } from './finetune';
import { headProbeSteps, imitationSteps } from './imitate';
import { imitationGroups } from './imitation-groups';
import { wideSteps } from './wide';

/** The distillation weight of "kd" when the fine-tune settings do not distil (finetune.kdWeight 0). */
const KD_BASELINE_WEIGHT = 0.5;

/** What each baseline is: the arm it trains like (its loss and batch stream) and its budget. */
const RECIPES: Record<BaselineName, { like: 'scratch' | 'kd'; budget: 'epochs' | 'steps' | 'compute' }> = {
  scratch: { like: 'scratch', budget: 'epochs' },
  kd: { like: 'kd', budget: 'epochs' },
  'scratch-steps': { like: 'scratch', budget: 'steps' },
  'kd-steps': { like: 'kd', budget: 'steps' },
  'scratch-compute': { like: 'scratch', budget: 'compute' },
};

export function isBaseline(phase: PhaseName): phase is BaselineName {
  return (BASELINE_NAMES as readonly PhaseName[]).includes(phase);
}

/** The baseline distils the wide net's logits, so the seed must have a wide net. */
export function needsTeacher(phase: PhaseName): boolean {
  return isBaseline(phase) && RECIPES[phase].like === 'kd';
}

/** Thin-net epochs of the baselines: the same budget as imitation plus fine-tuning. */
export function baselineEpochs(ctx: Pick<StageContext, 'experiment'>): number {
  const e = ctx.experiment;
  return thinEpochBudget(e.model.depth, e.imitate, e.finetune);
}

/** How a baseline trains: the standard schedule (the wide net's optimiser settings, not the
 *  fine-tune settings, which are tuned for starting from a warm start) for the baseline epochs, or
 *  for an exact step count (matched controls; the schedule then spans those steps). A matched control
 *  draws the batches of the arm it trains like, so its first steps see the same batches. */
function baselineSchedule(ctx: StageContext, arm: BaselineName) {
  const ft = ctx.experiment.finetune;
  const { epochs: _wideEpochs, ...standard } = ctx.experiment.wide;
  const { like, budget } = RECIPES[arm];
  return {
    phase: arm,
    streamOf: like,
    ...standard,
    epochs: baselineEpochs(ctx),
    steps: budget === 'steps' ? winSteps(ctx) : budget === 'compute' ? computeMatchedSteps(ctx) : undefined,
    kdWeight: like === 'kd' ? (ft.kdWeight > 0 ? ft.kdWeight : KD_BASELINE_WEIGHT) : 0,
    temperature: ft.temperature,
  };
}

export function baselineSteps(ctx: StageContext, arm: BaselineName): number {
  const schedule = baselineSchedule(ctx, arm);
  return schedule.steps ?? classifierSteps(ctx, schedule);
}

/** Optimisation steps of the three-stage thin net: imitation, the head probe and fine-tuning. */
export function winSteps(ctx: StageContext): number {
  return imitationSteps(ctx) + headProbeSteps(ctx) + fineTuneSteps(ctx);
}

/**
 * Steps of the standard schedule that cost the thin net as many training FLOPs as win's whole path
 * (wide net + imitation + head probe + fine-tuning). One training step on a batch of B examples costs
 * B x (3 x F_trained + F_teacher): forward plus a backward of about twice the forward through the
 * trained net (F its forward multiply-accumulates per example, BlockNet.flops), plus one forward of a
 * teacher whose outputs it learns from. An imitation group trains the thin net up to its last block
 * against the wide net up to that block (projections, norms and the lower blocks' missing backward
 * are not counted); the head probe is counted as whole-net training.
 */
export function computeMatchedSteps(ctx: StageContext): number {
  const thin = buildThinNet(ctx);
  const wide = buildWideNet(ctx);
  try {
    const e = ctx.experiment;
    const upTo = (net: BlockNet, last: number) => net.stem.flops + net.blocks.slice(0, last + 1).reduce((a, b) => a + b.flops, 0);
    const step = (batch: number, trained: number, teacher: number) => batch * (3 * trained + teacher);
    const wideCost = wideSteps(ctx) * step(e.wide.batchSize, wide.flops, 0);
    const imitationCost = imitationGroups(e.model, e.imitate.groups).reduce((sum, g) => {
      const steps = classifierSteps(ctx, { epochs: e.imitate.epochsPerLayer * (g.last - g.first + 1), batchSize: e.imitate.batchSize });
      return sum + steps * step(e.imitate.batchSize, upTo(thin, g.last), upTo(wide, g.last));
    }, 0);
    const fineTuneTeacher = e.finetune.kdWeight > 0 ? wide.flops : 0;
    const fineTuneCost = (headProbeSteps(ctx) + fineTuneSteps(ctx)) * step(e.finetune.batchSize, thin.flops, fineTuneTeacher);
    return Math.max(1, Math.round((wideCost + imitationCost + fineTuneCost) / step(e.wide.batchSize, thin.flops, 0)));
  } finally {
    thin.dispose();
    wide.dispose();
  }
}

export interface BaselineResult {
  /** The trained thin net (the caller disposes it). */
  net: BlockNet;
  seconds: number;
}

/** Trains a new thin net as baseline `arm`; `wide` is the teacher of "kd" and "kd-steps". */
export async function trainBaseline(ctx: StageContext, arm: BaselineName, wide: BlockNet | undefined): Promise<BaselineResult> {
  const net = buildThinNet(ctx);
  try {
    const result = await trainClassifier(ctx, { ...baselineSchedule(ctx, arm), net, teacher: needsTeacher(arm) ? wide : undefined });
    return { net, seconds: result.seconds };
  } catch (err) {
    net.dispose();
    throw err;
  }
}
