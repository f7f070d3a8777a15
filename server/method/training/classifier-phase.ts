// Trains a whole net (or some of its parts) on the classification loss, optionally distilling a
// teacher's logits: used by the wide stage, the fine-tune stage and both baselines.
import * as tf from '@tensorflow/tfjs';
import type { BlockNet } from '../../models/types';
import type { PhaseName } from '../../protocol';
import { BatchStream, stepsPerEpoch } from './batches';
import { seedFor, type StageContext } from '../context';
import { evaluate } from './evaluate';
import { kdLoss } from './losses';
import { GroupOptimizer, type VariableGroup } from './optimizer';
import type { LearningRateSchedule, OptimizerName } from '../../experiment/types';
import { stepsFor, trainPhase, type PhaseResult } from './train-loop';

export interface ClassifierPhase {
  phase: PhaseName;
  net: BlockNet;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  learningRate: number;
  schedule: LearningRateSchedule;
  weightDecay?: number;
  teacher?: BlockNet;
  kdWeight?: number;
  temperature?: number;
  /** Defaults to every trainable variable of the net at full rate. */
  groups?: VariableGroup[];
  /** Overrides the epoch budget with an exact step count (then no per-epoch validation). */
  steps?: number;
  /** Draw the batches of this phase instead of `phase`'s own (a matched control sees its arm's batches). */
  streamOf?: PhaseName;
}

export function allVariables(net: BlockNet): tf.Variable[] {
  return [net.stem, ...net.blocks, net.head].flatMap((p) => p.trainableVariables());
}

export function classifierSteps(ctx: StageContext, p: Pick<ClassifierPhase, 'epochs' | 'batchSize'>): number {
  return stepsFor(p.epochs, stepsPerEpoch(ctx.data.train.count, p.batchSize));
}

/** Validation accuracy after an epoch: the curve of accuracy against budget for each arm. */
async function validate(ctx: StageContext, p: ClassifierPhase, step: number, epoch: number): Promise<number> {
  const result = await evaluate((x) => p.net.forward(x, false), ctx.data.validation, ctx.data.exampleShape);
  ctx.report.metric({ seed: ctx.seed, phase: p.phase, step, epoch, loss: result.loss, accuracy: result.accuracy, split: 'validation' });
  return result.accuracy;
}

export interface ClassifierResult extends PhaseResult {
  /** Validation accuracy after the last epoch (undefined for a fixed step count). */
  validationAccuracy?: number;
}

export async function trainClassifier(ctx: StageContext, p: ClassifierPhase): Promise<ClassifierResult> {
  const stream = new BatchStream(ctx.data.train, ctx.data.exampleShape, p.batchSize, seedFor.stream(ctx.seed, p.streamOf ?? p.phase));
  const steps = p.steps ?? classifierSteps(ctx, p);
  const optimizer = new GroupOptimizer(
    { optimizer: p.optimizer, learningRate: p.learningRate, schedule: p.schedule, weightDecay: p.weightDecay, totalSteps: steps },
    p.groups ?? [{ variables: allVariables(p.net), lrMultiplier: 1 }],
  );
  const teacher = p.teacher;
  const kdWeight = teacher ? (p.kdWeight ?? 0) : 0;
  let validationAccuracy: number | undefined;
  try {
    const result = await trainPhase({
      place: { phase: p.phase, seed: ctx.seed },
      stream,
      steps,
      optimizer,
      signal: ctx.signal,
      readEvery: ctx.readEvery,
      prepare: (batch) => (teacher && kdWeight > 0 ? [teacher.forward(batch.x, false)] : []),
      loss: (batch, [teacherLogits]) =>
        kdLoss(p.net.forward(batch.x, true), teacherLogits, batch.y, kdWeight, p.temperature ?? 1),
      onLoss: (r) => ctx.report.metric({ seed: ctx.seed, phase: p.phase, step: r.step, epoch: r.epoch, loss: r.loss, split: 'train' }),
      onStep: (done) => ctx.report.steps(p.phase, undefined, done, steps),
      onEpochEnd: p.steps === undefined ? async (step, epoch) => void (validationAccuracy = await validate(ctx, p, step, epoch)) : undefined,
    });
    return { ...result, validationAccuracy };
  } finally {
    optimizer.dispose();
    stream.dispose();
  }
}
