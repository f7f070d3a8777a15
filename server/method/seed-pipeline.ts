// One seed of an experiment: wide net, the three-stage thin net ("win") and the baselines at the
// same thin-net epoch budget. The test split is touched only here, once per finished arm.
import type { BlockNet } from '../models/types';
import { PHASE_NAMES, type ArmName, type PhaseName, type RunState, type StageName } from '../protocol';
import { classifierSteps, trainClassifier } from './classifier-phase';
import { buildThinNet, buildWideNet, type StageContext } from './context';
import { evaluate } from './evaluate';
import { thinEpochBudget } from '../experiment/budget';
import { imitate, type BlockImitation } from './imitate-stage';
import { imitationGroups } from './imitation-groups';
import { trainWide } from './wide-stage';

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
  /** Loads checkpoint `name` of this seed into `net`; returns the checkpoint's meta. */
  restore(name: string, net: BlockNet): Record<string, unknown>;
  /** A phase starts from its beginning (the settings it runs with are recorded). */
  phaseStarted?(phase: PhaseName): void;
  /** A phase (or, with block, one imitated block) is finished: checkpoint saved, test recorded. */
  commit?(phase: PhaseName, checkpoint: string, block?: number): Promise<void>;
  /** The finished three-stage thin net (for export). */
  finished?(net: BlockNet, testAccuracy: number): Promise<void>;
  stageState(phase: PhaseName, state: RunState, extra?: { accuracy?: number; block?: number; firstBlock?: number; blockLoss?: [number, number] }): void;
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
  return thinEpochBudget(e.model.depth, e.imitate, e.finetune);
}


/** Phases a stage selection runs, in order. */
export function phasesOf(stage: StageName, baselines: readonly ('scratch' | 'kd')[]): PhaseName[] {
  const all: PhaseName[] = ['wide', 'imitate', 'finetune', ...baselines];
  if (stage === 'all') return all;
  if (stage === 'baselines') return [...baselines];
  return [stage];
}

/** What one seed must do, given what it finished before (a continued or resumed run). */
export interface SeedWork {
  /** Phases to run, in order (the plan plus what they depend on and is not committed). */
  run: PhaseName[];
  /** Imitation resumes at this block (its lower blocks come from a block checkpoint). */
  imitateFromBlock: number;
  /** Checkpoint names (without the seed prefix) the work restores. */
  restores: string[];
}

/**
 * @param plan phases asked for.
 * @param done phases committed before, and imitated blocks of an unfinished imitation.
 * @param redo "resume" skips committed phases; "continue" runs every planned phase again (an
 *   unfinished imitation still picks up at its next block).
 */
export function planSeedWork(plan: readonly PhaseName[], done: { committed: ReadonlySet<PhaseName>; blocks: number }, redo: 'resume' | 'continue'): SeedWork {
  const run = new Set(redo === 'resume' ? plan.filter((p) => !done.committed.has(p)) : plan);
  const has = (p: PhaseName) => run.has(p) || done.committed.has(p);
  if ((run.has('imitate') || run.has('finetune') || run.has('kd')) && !has('wide')) run.add('wide');
  if (run.has('finetune') && !has('imitate')) run.add('imitate');
  const imitateFromBlock = run.has('imitate') && !done.committed.has('imitate') && !run.has('wide') ? done.blocks : 0;
  const restores: string[] = [];
  if ((run.has('imitate') || run.has('finetune') || run.has('kd')) && !run.has('wide')) restores.push(checkpointNames.wide);
  if (imitateFromBlock > 0) restores.push(checkpointNames.block(imitateFromBlock - 1));
  if (run.has('finetune') && !run.has('imitate')) restores.push(checkpointNames.imitated);
  return { run: PHASE_NAMES.filter((p) => run.has(p)), imitateFromBlock, restores };
}

export function emptyOutcome(seed: number): SeedOutcome {
  return { seed, test: {}, params: { thin: 0, wide: 0 }, seconds: {}, imitation: [] };
}

/** Runs `work` for one seed, filling `outcome` in place (it may carry results of earlier phases). */
export async function runSeed(ctx: StageContext, work: SeedWork, hooks: SeedHooks, outcome: SeedOutcome = emptyOutcome(ctx.seed)): Promise<SeedOutcome> {
  const e = ctx.experiment;
  const phases = work.run;
  const recordTest = async (arm: ArmName, phase: PhaseName, net: BlockNet): Promise<number> => {
    const result = await evaluate((x) => net.forward(x, false), ctx.data.test, ctx.data.exampleShape);
    outcome.test[arm] = result.accuracy;
    ctx.report.metric({ seed: ctx.seed, phase, step: -1, loss: result.loss, accuracy: result.accuracy, split: 'test' });
    return result.accuracy;
  };
  const finishPhase = async (phase: PhaseName, checkpoint: string, net: BlockNet, meta: Record<string, unknown>) => {
    await hooks.checkpoint(checkpoint, net, { stage: phase, ...meta });
  };
  const needsWide = phases.some((p) => p !== 'scratch');
  let wide: BlockNet | undefined;
  let thin: BlockNet | undefined;
  try {
    if (needsWide) {
      if (phases.includes('wide')) {
        hooks.phaseStarted?.('wide');
        hooks.stageState('wide', 'running');
        const result = await trainWide(ctx);
        wide = result.net;
        outcome.wideValidationAccuracy = result.validationAccuracy;
        outcome.seconds.wide = result.seconds;
        outcome.params.wide = wide.params;
        await finishPhase('wide', checkpointNames.wide, wide, { validationAccuracy: result.validationAccuracy });
        await recordTest('wide', 'wide', wide);
        hooks.stageState('wide', 'done', { accuracy: result.validationAccuracy });
        await hooks.commit?.('wide', checkpointNames.wide);
      } else {
        wide = buildWideNet(ctx);
        const meta = hooks.restore(checkpointNames.wide, wide);
        if (typeof meta.validationAccuracy === 'number') outcome.wideValidationAccuracy ??= meta.validationAccuracy;
        outcome.params.wide = wide.params;
      }
    }

    if (phases.includes('imitate') || phases.includes('finetune')) {
      thin = buildThinNet(ctx);
      outcome.params.thin = thin.params;
      if (phases.includes('imitate')) {
        const startBlock = work.imitateFromBlock;
        if (startBlock > 0) {
          hooks.restore(checkpointNames.block(startBlock - 1), thin);
          outcome.imitation = outcome.imitation.filter((b) => b.block < startBlock);
        } else {
          hooks.phaseStarted?.('imitate');
          outcome.imitation = [];
          delete outcome.seconds.imitate;
        }
        hooks.stageState('imitate', 'running');
        const net = thin;
        const secondsBefore = outcome.seconds.imitate ?? 0;
        const result = await imitate(ctx, net, wide!, {
          startBlock,
          afterBlock: async (i) => {
            const name = checkpointNames.block(i);
            await hooks.checkpoint(name, net, { stage: 'imitate', block: i });
            await hooks.commit?.('imitate', name, i);
          },
          blockStarted: (block, firstBlock) => hooks.stageState('imitate', 'running', { block, firstBlock }),
          blockDone: (b) => {
            outcome.imitation.push(b);
            outcome.seconds.imitate = secondsBefore + outcome.imitation.filter((x) => x.block >= startBlock).reduce((a, x) => a + x.seconds, 0);
            hooks.stageState('imitate', 'running', { block: b.block, firstBlock: b.firstBlock, blockLoss: [b.startLoss, b.endLoss] });
          },
        });
        outcome.warmStartAccuracy = result.warmStartAccuracy;
        outcome.headShared = result.headShared;
        outcome.seconds.imitate = secondsBefore + result.seconds;
        await finishPhase('imitate', checkpointNames.imitated, thin, { warmStartAccuracy: result.warmStartAccuracy });
        hooks.stageState('imitate', 'done', { accuracy: result.warmStartAccuracy });
        await hooks.commit?.('imitate', checkpointNames.imitated);
      } else {
        hooks.restore(checkpointNames.imitated, thin);
      }
      if (phases.includes('finetune')) {
        hooks.phaseStarted?.('finetune');
        hooks.stageState('finetune', 'running');
        const ft = e.finetune;
        const result = await trainClassifier(ctx, { phase: 'finetune', net: thin, ...ft, teacher: wide });
        outcome.seconds.finetune = result.seconds;
        await finishPhase('finetune', checkpointNames.finetune, thin, {});
        const accuracy = await recordTest('win', 'finetune', thin);
        await hooks.finished?.(thin, accuracy);
        hooks.stageState('finetune', 'done', { accuracy });
        await hooks.commit?.('finetune', checkpointNames.finetune);
      }
      thin.dispose();
      thin = undefined;
    }

    for (const arm of ['scratch', 'kd'] as const) {
      if (!phases.includes(arm)) continue;
      hooks.phaseStarted?.(arm);
      hooks.stageState(arm, 'running');
      const net = buildThinNet(ctx);
      thin = net;
      outcome.params.thin = net.params;
      const ft = e.finetune;
      // The baselines train with the standard schedule (the wide net's optimiser settings), not with
      // the fine-tune settings, which are tuned for starting from a warm start.
      const { epochs: _wideEpochs, ...standard } = e.wide;
      const result = await trainClassifier(ctx, {
        phase: arm,
        net,
        ...standard,
        epochs: baselineEpochs(ctx),
        teacher: arm === 'kd' ? wide : undefined,
        kdWeight: arm === 'kd' ? (ft.kdWeight > 0 ? ft.kdWeight : 0.5) : 0,
        temperature: ft.temperature,
      });
      outcome.seconds[arm] = result.seconds;
      await finishPhase(arm, checkpointNames[arm], net, {});
      const accuracy = await recordTest(arm, arm, net);
      hooks.stageState(arm, 'done', { accuracy });
      await hooks.commit?.(arm, checkpointNames[arm]);
      net.dispose();
      thin = undefined;
    }
    return outcome;
  } finally {
    thin?.dispose();
    wide?.dispose();
  }
}

/** Steps a seed's phases will take (for progress and ETA); imitation counted per group, as it runs. */
export function plannedSteps(ctx: StageContext, phases: PhaseName[]): Record<PhaseName, number> {
  const e = ctx.experiment;
  const steps: Record<PhaseName, number> = { wide: 0, imitate: 0, finetune: 0, scratch: 0, kd: 0 };
  if (phases.includes('wide')) steps.wide = classifierSteps(ctx, e.wide);
  if (phases.includes('imitate')) {
    const groupSteps = (g: { first: number; last: number }) =>
      classifierSteps(ctx, { epochs: e.imitate.epochsPerLayer * (g.last - g.first + 1), batchSize: e.imitate.batchSize });
    steps.imitate = imitationGroups(e.model, e.imitate.groups).reduce((n, g) => n + groupSteps(g), 0);
  }
  if (phases.includes('finetune')) steps.finetune = classifierSteps(ctx, e.finetune);
  for (const arm of ['scratch', 'kd'] as const) {
    if (phases.includes(arm)) steps[arm] = classifierSteps(ctx, { epochs: baselineEpochs(ctx), batchSize: e.finetune.batchSize });
  }
  return steps;
}
