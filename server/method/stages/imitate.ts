// Stage 2: layerwise imitation, bottom to top. Thin block i (or a group of blocks ending at i, see
// imitation-groups.ts) learns to reproduce wide block i's output (wide net frozen, inference mode),
// through a thin->wide projection when shapes differ; the target is never projected. Each group gets
// its own budget (epochsPerLayer per block) and a restarted LR schedule.
import * as tf from '@tensorflow/tfjs';
import type { BlockNet, NetPart } from '../../models/types';
import { BatchStream } from '../training/batches';
import { classifierSteps, trainClassifier } from '../training/classifier-phase';
import { seedFor, type StageContext } from '../context';
import { evaluate, meanOverSplit } from '../training/evaluate';
import { imitationGroups, type ImitationGroup } from './imitation-groups';
import { imitationLoss } from '../training/losses';
import { GroupOptimizer, type VariableGroup } from '../training/optimizer';
import { stepsFor, trainPhase } from '../training/train-loop';

export interface BlockImitation {
  /** The block whose output was matched (the last of its group). */
  block: number;
  /** The group's first block: blocks firstBlock..block trained together (firstBlock = block alone). */
  firstBlock: number;
  /** Imitation loss on validation examples before and after the block's phase. */
  startLoss: number;
  endLoss: number;
  /** Units (channels of a feature map) of the thin block's output that never fire on the validation
   *  examples after its phase: ReLU units killed by large early steps, capacity lost for good. */
  deadUnits: number;
  units: number;
  steps: number;
  seconds: number;
}

export interface ImitationResult {
  blocks: BlockImitation[];
  /** The thin net shares the wide net's stem and head (same shapes: widen mode "inside"). */
  headShared: boolean;
  /** Validation accuracy of the thin net right after imitation, before fine-tuning. */
  warmStartAccuracy: number;
  seconds: number;
}

export interface ImitationHooks {
  /** Called after every imitated group, with its last block (checkpoints). */
  afterBlock?: (block: number) => Promise<void>;
  /** Called when a group's phase starts, with the block whose output it matches and its first block. */
  blockStarted?: (block: number, firstBlock: number) => void;
  /** Called with each block's result as soon as it is known. */
  blockDone?: (result: BlockImitation) => void;
  /** Resume after a crash: blocks below this were imitated and restored from their checkpoint. */
  startBlock?: number;
}

/** Validation examples used to measure a block's imitation loss before and after its phase. */
const IMITATION_EVAL_EXAMPLES = 1000;
/** Share of dead output units above which a block's imitation is reported as harmful. */
const DEAD_UNITS_WARNING = 0.25;

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Copies one part's variables into another when every shape matches; returns whether it did
 *  (with copy false, only whether it could). */
export function copyPart(from: NetPart, to: NetPart, copy = true): boolean {
  const source = [...from.trainableVariables(), ...from.stateVariables()];
  const target = [...to.trainableVariables(), ...to.stateVariables()];
  if (source.length !== target.length || !source.every((v, i) => sameShape(v.shape, target[i].shape))) return false;
  if (copy) target.forEach((v, i) => v.assign(source[i]));
  return true;
}

export async function imitate(ctx: StageContext, thin: BlockNet, wide: BlockNet, hooks: ImitationHooks = {}): Promise<ImitationResult> {
  const started = Date.now();
  // The paper's "inside" recipe keeps block interfaces, so the thin net takes the wide stem and head.
  // (A resumed imitation restored them, already trained, from the last block checkpoint.)
  const startBlock = hooks.startBlock ?? 0;
  const copy = startBlock === 0;
  const headShared = copyPart(wide.head, thin.head, copy) && copyPart(wide.stem, thin.stem, copy);
  const blocks: BlockImitation[] = [];
  for (const group of imitationGroups(ctx.experiment.model, ctx.experiment.imitate.groups, startBlock)) {
    hooks.blockStarted?.(group.last, group.first);
    const result = await imitateGroup(ctx, thin, wide, group);
    blocks.push(result);
    hooks.blockDone?.(result);
    await hooks.afterBlock?.(group.last);
  }
  if (!headShared) await fitHead(ctx, thin, wide);
  const warm = await evaluate((x) => thin.forward(x, false), ctx.data.validation, ctx.data.exampleShape);
  // epoch: the thin net's budget spent on imitation, where its fine-tuning epochs continue (curves against budget).
  const epoch = ctx.experiment.imitate.epochsPerLayer * thin.blocks.length;
  ctx.report.metric({ seed: ctx.seed, phase: 'imitate', step: 0, epoch, loss: warm.loss, accuracy: warm.accuracy, split: 'validation' });
  return { blocks, headShared, warmStartAccuracy: warm.accuracy, seconds: (Date.now() - started) / 1000 };
}

async function imitateGroup(ctx: StageContext, thin: BlockNet, wide: BlockNet, { first, last: i }: ImitationGroup): Promise<BlockImitation> {
  const cfg = ctx.experiment.imitate;
  const { factory, seed } = ctx;
  const trained = thin.blocks.slice(first, i + 1);
  const outputShape = thin.blocks[i].outputShape;
  const outProjection = sameShape(outputShape, wide.blocks[i].outputShape)
    ? undefined
    : factory.buildProjection(outputShape, wide.blocks[i].outputShape, seedFor.projection(seed, i), `imitate${i}_out`);
  const wideInput = cfg.input === 'wide' && first > 0;
  const thinInputShape = first === 0 ? thin.stem.outputShape : thin.blocks[first - 1].outputShape;
  const inProjection =
    wideInput && !sameShape(wide.blocks[first - 1].outputShape, thinInputShape)
      ? factory.buildProjection(wide.blocks[first - 1].outputShape, thinInputShape, seedFor.projection(seed, i + 100000), `imitate${i}_in`)
      : undefined;

  const lowerParts: NetPart[] = first === 0 ? [] : [thin.stem, ...thin.blocks.slice(0, first)];
  const lowerRate = cfg.lowerLayers === 'frozen' ? 0 : cfg.lowerLayers === 'slow' ? cfg.slowFactor : 1;
  const lowerTrains = !wideInput && first > 0 && lowerRate > 0;
  const groups: VariableGroup[] = [
    {
      variables: [
        ...trained.flatMap((b) => b.trainableVariables()),
        ...(first === 0 ? thin.stem.trainableVariables() : []),
        ...(outProjection?.trainableVariables() ?? []),
        ...(inProjection?.trainableVariables() ?? []),
      ],
      lrMultiplier: 1,
    },
  ];
  if (lowerTrains) groups.push({ variables: lowerParts.flatMap((p) => p.trainableVariables()), lrMultiplier: lowerRate });

  /** Group input that carries no gradient: the wide net's previous output, or a frozen thin chain. */
  const offTapeInput = (x: tf.Tensor, wideStates: tf.Tensor[]): tf.Tensor | undefined => {
    if (wideInput) return wideStates[first];
    if (first > 0 && !lowerTrains) return thin.hiddenStates(x, false, first - 1)[first];
    return undefined;
  };
  /** The input of the group's first block: the thin chain below it, or the (projected) wide previous output. */
  const groupInput = (x: tf.Tensor, offTape: tf.Tensor | undefined, training: boolean): tf.Tensor => {
    if (wideInput) return inProjection ? inProjection.apply(offTape!, training) : offTape!;
    if (offTape) return offTape;
    if (first === 0) return thin.stem.apply(x, training);
    return thin.hiddenStates(x, training, first - 1)[first];
  };
  const loss = (target: tf.Tensor, input: tf.Tensor, training: boolean): tf.Scalar => {
    const out = trained.reduce((h, b) => b.apply(h, training), input);
    return imitationLoss(outProjection ? outProjection.apply(out, training) : out, target, cfg.normalizeTargets);
  };
  const measure = () =>
    meanOverSplit(
      (x) => {
        const states = wide.hiddenStates(x, false, i);
        return loss(states[i + 1], groupInput(x, offTapeInput(x, states), false), false);
      },
      ctx.data.validation,
      ctx.data.exampleShape,
      IMITATION_EVAL_EXAMPLES,
    );

  const stream = new BatchStream(ctx.data.train, ctx.data.exampleShape, cfg.batchSize, seedFor.stream(seed, 'imitate', i));
  const steps = stepsFor(cfg.epochsPerLayer * trained.length, stream.stepsPerEpoch);
  // The projections first, alone: a random projection sends the block gradients that mean nothing
  // yet, and at a high rate they switch ReLU units off for good (measured: half of a conv block's
  // channels). The block is held fixed meanwhile; the steps come out of the block's own budget.
  const projections = [...(outProjection?.trainableVariables() ?? []), ...(inProjection?.trainableVariables() ?? [])];
  const projectionSteps = projections.length > 0 ? Math.max(0, Math.min(steps - 1, Math.round(cfg.projectionWarmup * steps))) : 0;
  const phases = [
    { groups: [{ variables: projections, lrMultiplier: 1 }], steps: projectionSteps, offset: 0 },
    { groups, steps: steps - projectionSteps, offset: projectionSteps },
  ].filter((p) => p.steps > 0);
  const optimizers: GroupOptimizer[] = [];
  try {
    const startLoss = await measure();
    ctx.report.metric({ seed, phase: 'imitate', block: i, step: 0, loss: startLoss, imitationLoss: startLoss, split: 'validation' });
    let seconds = 0;
    for (const phase of phases) {
      const optimizer = new GroupOptimizer(
        { optimizer: cfg.optimizer, learningRate: cfg.learningRate, schedule: cfg.schedule, totalSteps: phase.steps },
        phase.groups,
      );
      optimizers.push(optimizer);
      const result = await trainPhase({
        place: { phase: 'imitate', seed, block: i },
        stream,
        steps: phase.steps,
        optimizer,
        signal: ctx.signal,
        readEvery: ctx.readEvery,
        prepare: (batch) => {
          const states = wide.hiddenStates(batch.x, false, i);
          const offTape = offTapeInput(batch.x, states);
          return offTape ? [states[i + 1], offTape] : [states[i + 1]];
        },
        loss: (batch, [target, offTape]) => loss(target, groupInput(batch.x, offTape, true), true),
        onLoss: (r) =>
          ctx.report.metric({ seed, phase: 'imitate', block: i, step: phase.offset + r.step, epoch: r.epoch, loss: r.loss, imitationLoss: r.loss, split: 'train' }),
        onStep: (done) => ctx.report.steps('imitate', i, phase.offset + done, steps),
      });
      seconds += result.seconds;
    }
    if (cfg.normalizeTargets) await matchScale(ctx, thin, wide, i);
    const endLoss = await measure();
    ctx.report.metric({ seed, phase: 'imitate', block: i, step: steps, loss: endLoss, imitationLoss: endLoss, split: 'validation' });
    const { dead, units } = await deadUnits(ctx, thin, i);
    const wideDead = outProjection ? undefined : (await deadUnits(ctx, wide, i)).dead;
    const warning = deadUnitsWarning(dead, units, wideDead, cfg.projectionWarmup);
    if (warning) ctx.report.log('warn', `imitation, seed ${seed}, block ${i}: ${warning}`);
    return { block: i, firstBlock: first, startLoss, endLoss, deadUnits: dead, units, steps, seconds };
  } finally {
    stream.dispose();
    for (const optimizer of optimizers) optimizer.dispose();
    outProjection?.dispose();
    inProjection?.dispose();
  }
}

/** A linear probe's settings: the head alone converges in a few hundred steps at this rate whatever
 *  the fine-tune settings and the data size are (measured: tying the rate to the fine-tune rate broke
 *  the head at 1e-4; tying the steps to an epoch left it below chance on a 480-example set). */
const HEAD_PROBE = { learningRate: 1e-2, steps: 300 } as const;

/** Steps of the imitation groups (counted per group, as they run). */
export function imitationSteps(ctx: StageContext): number {
  const { model, imitate: cfg } = ctx.experiment;
  const groupSteps = (g: ImitationGroup) => classifierSteps(ctx, { epochs: cfg.epochsPerLayer * (g.last - g.first + 1), batchSize: cfg.batchSize });
  return imitationGroups(model, cfg.groups).reduce((n, g) => n + groupSteps(g), 0);
}

/** Steps of the head probe: widen mode "all" widens the block outputs, so the thin head differs from
 *  the wide one and is fitted alone (fitHead); mode "inside" shares the wide head. */
export function headProbeSteps(ctx: StageContext): number {
  return ctx.experiment.widen.mode === 'all' ? HEAD_PROBE.steps : 0;
}

/** Widen mode "all": the thin head cannot be the wide one, so it is fitted alone (a linear probe on
 *  the fine-tune loss against the wide logits) before the warm start is measured. Cheap: no gradient
 *  flows below the head. Folding the last projection into the head instead is exact only for raw
 *  MSE across a linear boundary. */
async function fitHead(ctx: StageContext, thin: BlockNet, wide: BlockNet): Promise<void> {
  const ft = ctx.experiment.finetune;
  await trainClassifier(ctx, {
    phase: 'imitate',
    net: thin,
    epochs: 0,
    steps: HEAD_PROBE.steps,
    batchSize: ft.batchSize,
    optimizer: 'adam',
    learningRate: HEAD_PROBE.learningRate,
    schedule: 'cosine',
    teacher: wide,
    kdWeight: ft.kdWeight,
    temperature: ft.temperature,
    groups: [{ variables: thin.head.trainableVariables(), lrMultiplier: 1 }],
  });
}

const rms = (t: tf.Tensor) => tf.sqrt(tf.mean(tf.square(t)));

/** The first validation examples (up to IMITATION_EVAL_EXAMPLES) as one batch; the caller disposes it. */
function validationSample(ctx: StageContext): tf.Tensor {
  const count = Math.min(ctx.data.validation.count, IMITATION_EVAL_EXAMPLES);
  const size = ctx.data.exampleShape.reduce((a, b) => a * b, 1);
  return tf.tensor(ctx.data.validation.x.subarray(0, count * size), [count, ...ctx.data.exampleShape]);
}

/** The warning for a block that lost too many output units, or undefined. wideDead: the wide block's
 *  dead units when both share their output units (no projection): a unit the wide block never fires is
 *  one the thin block is right to leave off. */
export function deadUnitsWarning(dead: number, units: number, wideDead: number | undefined, projectionWarmup: number): string | undefined {
  if (dead <= DEAD_UNITS_WARNING * units || dead <= (wideDead ?? 0)) return undefined;
  const warmup =
    projectionWarmup > 0
      ? `raise imitate.projectionWarmup (now ${projectionWarmup}) so the projection is fitted longer before the block trains`
      : 'set imitate.projectionWarmup (e.g. 0.2) so the projection is fitted before the block trains';
  const fix = wideDead === undefined ? `${warmup}, or lower imitate.learningRate` : `the wide block leaves only ${wideDead} off; lower imitate.learningRate`;
  return `${dead} of ${units} output units never fire on validation examples (dead ReLUs lose capacity for good); ${fix}`;
}

/** Units of a net's block i output (last axis) that are never positive on the validation sample. */
export async function deadUnits(ctx: StageContext, net: BlockNet, i: number): Promise<{ dead: number; units: number }> {
  const fired = tf.tidy(() => {
    const out = net.hiddenStates(validationSample(ctx), false, i)[i + 1];
    const units = out.shape[out.shape.length - 1] as number;
    return tf.max(tf.reshape(out, [-1, units]), 0);
  });
  const peaks = await fired.data();
  fired.dispose();
  return { dead: peaks.filter((v) => !(v > 0)).length, units: peaks.length };
}

/** Normalised MSE leaves the scale of a thin block's output free, and over many blocks the scales
 *  drift far from anything fine-tuning copes with. When the block ends in a dense or convolution layer
 *  followed by a positively homogeneous activation (ReLU; max pooling keeps that), scaling that
 *  layer's kernel and bias by c scales the output by c: set c so the thin output has the wide output's
 *  root-mean-square. The block's normalised imitation loss is unchanged. Blocks whose output scale is
 *  not set by their last kernel (normalisation layers, residual sums) are left as they are. */
async function matchScale(ctx: StageContext, thin: BlockNet, wide: BlockNet, i: number): Promise<void> {
  const { model } = ctx.experiment;
  const plainBlocks = model.family === 'mlp' || (model.family === 'cnn' && !model.normalization);
  if (model.activation !== 'relu' || !plainBlocks) return;
  const vars = thin.blocks[i].trainableVariables();
  const kernel = vars[vars.length - 2];
  const bias = vars[vars.length - 1];
  const denseOrConv = kernel && (kernel.shape.length === 2 || kernel.shape.length === 4);
  if (!denseOrConv || !bias || bias.shape.length !== 1 || kernel.shape[kernel.shape.length - 1] !== bias.shape[0]) return;
  const [thinRms, wideRms] = tf.tidy(() => {
    const x = validationSample(ctx);
    return [rms(thin.hiddenStates(x, false, i)[i + 1]), rms(wide.hiddenStates(x, false, i)[i + 1])];
  });
  const ratio = (await wideRms.data())[0] / (await thinRms.data())[0];
  tf.dispose([thinRms, wideRms]);
  if (!Number.isFinite(ratio) || ratio <= 0) return;
  tf.tidy(() => {
    kernel.assign(tf.mul(kernel, ratio));
    bias.assign(tf.mul(bias, ratio));
  });
}
