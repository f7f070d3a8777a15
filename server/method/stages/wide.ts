// Stage 1: train the wide net B on the task, then check that it clearly beats chance on validation.
import type { BlockNet } from '../../models/types';
import { buildWideNet, type StageContext } from '../context';
import { classifierSteps, trainClassifier } from '../training/classifier-phase';

export class WideNetUntrainedError extends Error {
  constructor(accuracyValue: number, required: number, chance: number) {
    super(
      `The wide net reached only ${(accuracyValue * 100).toFixed(1)}% validation accuracy (chance ${(chance * 100).toFixed(1)}%, ` +
        `required ${(required * 100).toFixed(1)}%), so imitating it would teach the thin net nothing. ` +
        'Fix: raise wide.epochs or wide.learningRate, lower widen.factor, or lower minWideAccuracy.',
    );
    this.name = 'WideNetUntrainedError';
  }
}

/** Default threshold: a quarter of the way from chance to perfect (32.5% for ten classes). */
export function requiredWideAccuracy(numClasses: number, minWideAccuracy?: number): number {
  if (minWideAccuracy !== undefined) return minWideAccuracy;
  const chance = 1 / numClasses;
  return chance + 0.25 * (1 - chance);
}

export interface WideResult {
  net: BlockNet;
  validationAccuracy: number;
  seconds: number;
}

export async function trainWide(ctx: StageContext): Promise<WideResult> {
  const net = buildWideNet(ctx);
  try {
    const cfg = ctx.experiment.wide;
    const phase = await trainClassifier(ctx, { phase: 'wide', net, ...cfg });
    const validationAccuracy = checkWide(ctx, phase.validationAccuracy ?? NaN);
    return { net, validationAccuracy, seconds: phase.seconds };
  } catch (err) {
    net.dispose();
    throw err;
  }
}

export function wideSteps(ctx: StageContext): number {
  return classifierSteps(ctx, ctx.experiment.wide);
}

/** Checks a trained wide net's last validation accuracy; throws WideNetUntrainedError below the threshold. */
export function checkWide(ctx: StageContext, acc: number): number {
  const required = requiredWideAccuracy(ctx.data.numClasses, ctx.experiment.minWideAccuracy);
  if (!(acc >= required)) throw new WideNetUntrainedError(acc, required, 1 / ctx.data.numClasses);
  return acc;
}
