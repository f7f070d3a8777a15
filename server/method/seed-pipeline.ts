// One seed of an experiment: wide net, the three-stage thin net ("win") and the baselines at the
// same thin-net epoch budget. The test split is touched only here, once per finished arm.
import type { BlockNet } from '../models/types';
import type { ArmName, PhaseName, RunState, StageName } from '../protocol';
import { classifierSteps, trainClassifier } from './classifier-phase';
import { buildThinNet, buildWideNet, type StageContext } from './context';
import { evaluate } from './evaluate';
import { imitate, type BlockImitation } from './imitate-stage';
import { checkWide, trainWide } from './wide-stage';

export interface SeedOutcome {
  seed: number;
  /** Test accuracy per arm that ran. */
  test: Partial<Record<ArmName, number>>;
  params: { thin: number; wide: number };
  /** Seconds per phase. */
  seconds: Partial<Record<PhaseName, number>>;
  wideValidationAccuracy?: number;
  warmStartAccuracy?: number;
  headShared?: boolean;
  imitation: BlockImitation[];
}

export interface SeedHooks {
  /** Saves the variables of `net` as checkpoint `name` of this seed. */
  checkpoint(name: string, net: BlockNet, meta: Record<string, unknown>): Promise<void>;
  /** Loads checkpoint `name` of this seed into `net` (to continue a run at a later stage). */
  restore(name: string, net: BlockNet): void;
  /** The finished three-stage thin net (for export). */
  finished?(net: BlockNet, testAccuracy: number): Promise<void>;
  stageState(phase: PhaseName, state: RunState, extra?: { accuracy?: number; block?: number; blockLoss?: [number, number] }): void;
}

export const checkpointNames = {
  wide: 'wide',
  block: (i: number) => `imitate-block${String(i).padStart(3, '0')}`,
  imitated: 'imitate',
  finetune: 'finetune',
  scratch: 'scratch',
  kd: 'kd',
};

/** Thin-net epochs of the baselines: the same budget as imitation plus fine-tuning. */
export function baselineEpochs(ctx: Pick<StageContext, 'experiment'>): number {
  const e = ctx.experiment;
  return e.model.depth * e.imitate.epochsPerLayer + e.finetune.epochs;
}

/** Phases a stage selection runs, in order. */
export function phasesOf(stage: StageName, baselines: readonly ('scratch' | 'kd')[]): PhaseName[] {
  const all: PhaseName[] = ['wide', 'imitate', 'finetune', ...baselines];
  if (stage === 'all') return all;
  if (stage === 'baselines') return [...baselines];
  return [stage];
}

export async function runSeed(ctx: StageContext, phases: PhaseName[], hooks: SeedHooks): Promise<SeedOutcome> {
  const e = ctx.experiment;
  const outcome: SeedOutcome = { seed: ctx.seed, test: {}, params: { thin: 0, wide: 0 }, seconds: {}, imitation: [] };
  const recordTest = async (arm: ArmName, phase: PhaseName, net: BlockNet): Promise<number> => {
    const result = await evaluate((x) => net.forward(x, false), ctx.data.test, ctx.data.exampleShape);
    outcome.test[arm] = result.accuracy;
    ctx.report.metric({ seed: ctx.seed, phase, step: -1, loss: result.loss, accuracy: result.accuracy, split: 'test' });
    return result.accuracy;
  };
  const needsWide = phases.some((p) => p !== 'scratch');
  let wide: BlockNet | undefined;
  let thin: BlockNet | undefined;
  try {
    if (needsWide) {
      if (phases.includes('wide')) {
        hooks.stageState('wide', 'running');
        const result = await trainWide(ctx);
        wide = result.net;
        outcome.wideValidationAccuracy = result.validationAccuracy;
        outcome.seconds.wide = result.seconds;
        await hooks.checkpoint(checkpointNames.wide, wide, { stage: 'wide', validationAccuracy: result.validationAccuracy });
        hooks.stageState('wide', 'done', { accuracy: result.validationAccuracy });
      } else {
        wide = buildWideNet(ctx);
        hooks.restore(checkpointNames.wide, wide);
        outcome.wideValidationAccuracy = await checkWide(ctx, wide, 0);
      }
      outcome.params.wide = wide.params;
      if (phases.includes('wide')) await recordTest('wide', 'wide', wide);
    }

    if (phases.includes('imitate') || phases.includes('finetune')) {
      thin = buildThinNet(ctx);
      outcome.params.thin = thin.params;
      if (phases.includes('imitate')) {
        hooks.stageState('imitate', 'running');
        const net = thin;
        const result = await imitate(ctx, net, wide!, {
          afterBlock: (i) => hooks.checkpoint(checkpointNames.block(i), net, { stage: 'imitate', block: i }),
          blockDone: (b) => {
            outcome.imitation.push(b);
            hooks.stageState('imitate', 'running', { block: b.block, blockLoss: [b.startLoss, b.endLoss] });
          },
        });
        outcome.warmStartAccuracy = result.warmStartAccuracy;
        outcome.headShared = result.headShared;
        outcome.seconds.imitate = result.seconds;
        await hooks.checkpoint(checkpointNames.imitated, thin, { stage: 'imitate', warmStartAccuracy: result.warmStartAccuracy });
        hooks.stageState('imitate', 'done', { accuracy: result.warmStartAccuracy });
      } else {
        hooks.restore(checkpointNames.imitated, thin);
      }
      if (phases.includes('finetune')) {
        hooks.stageState('finetune', 'running');
        const ft = e.finetune;
        const result = await trainClassifier(ctx, { phase: 'finetune', net: thin, ...ft, teacher: wide });
        outcome.seconds.finetune = result.seconds;
        await hooks.checkpoint(checkpointNames.finetune, thin, { stage: 'finetune' });
        const accuracy = await recordTest('win', 'finetune', thin);
        hooks.stageState('finetune', 'done', { accuracy });
        await hooks.finished?.(thin, accuracy);
      }
      thin.dispose();
      thin = undefined;
    }

    for (const arm of ['scratch', 'kd'] as const) {
      if (!phases.includes(arm)) continue;
      hooks.stageState(arm, 'running');
      const net = buildThinNet(ctx);
      thin = net;
      outcome.params.thin = net.params;
      const ft = e.finetune;
      const result = await trainClassifier(ctx, {
        phase: arm,
        net,
        ...ft,
        epochs: baselineEpochs(ctx),
        teacher: arm === 'kd' ? wide : undefined,
        kdWeight: arm === 'kd' ? (ft.kdWeight > 0 ? ft.kdWeight : 0.5) : 0,
      });
      outcome.seconds[arm] = result.seconds;
      await hooks.checkpoint(checkpointNames[arm], net, { stage: arm });
      const accuracy = await recordTest(arm, arm, net);
      hooks.stageState(arm, 'done', { accuracy });
      net.dispose();
      thin = undefined;
    }
    return outcome;
  } finally {
    thin?.dispose();
    wide?.dispose();
  }
}

/** Steps a seed's phases will take (for progress and ETA); imitation counted per block. */
export function plannedSteps(ctx: StageContext, phases: PhaseName[]): Record<PhaseName, number> {
  const e = ctx.experiment;
  const steps: Record<PhaseName, number> = { wide: 0, imitate: 0, finetune: 0, scratch: 0, kd: 0 };
  if (phases.includes('wide')) steps.wide = classifierSteps(ctx, e.wide);
  if (phases.includes('imitate')) steps.imitate = e.model.depth * classifierSteps(ctx, { epochs: e.imitate.epochsPerLayer, batchSize: e.imitate.batchSize });
  if (phases.includes('finetune')) steps.finetune = classifierSteps(ctx, e.finetune);
  for (const arm of ['scratch', 'kd'] as const) {
    if (phases.includes(arm)) steps[arm] = classifierSteps(ctx, { epochs: baselineEpochs(ctx), batchSize: e.finetune.batchSize });
  }
  return steps;
}
