// One seed of an experiment, in the paper's order: the wide net (stages/wide.ts), the three-stage thin
// net "win" (stages/imitate.ts, then stages/finetune.ts) and the baselines at the same thin-net epoch
// budget (stages/baselines.ts). Here: which phases a seed runs (planSeedWork), their order, the checkpoints
// and commit points between them, and each arm's one look at the test split.
import type { BlockNet } from '../models/types';
import { PHASE_NAMES, type ArmName, type BaselineName, type PhaseName, type RunState, type StageName } from '../protocol';
import { baselineSteps, isBaseline, needsTeacher, trainBaseline } from './stages/baselines';
import { buildThinNet, buildWideNet, type StageContext } from './context';
import { evaluate } from './training/evaluate';
import { fineTune, fineTuneSteps } from './stages/finetune';
import { imitate, imitationSteps, type BlockImitation } from './stages/imitate';
import { trainWide, wideSteps } from './stages/wide';

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

/** What a seed's pipeline records (RunRecorder.seed in runs/run-recorder.ts implements it). */
export interface SeedRecorder {
  /** Saves the variables of `net` as checkpoint `name` of this seed. */
  checkpoint(name: string, net: BlockNet, meta: Record<string, unknown>): Promise<void>;
  /** Loads checkpoint `name` of this seed into `net`; returns the checkpoint's meta. */
  restore(name: string, net: BlockNet): Record<string, unknown>;
  /** A phase starts from its beginning (the settings it runs with are recorded). */
  phaseStarted(phase: PhaseName): void;
  /** A phase (or, with block, one imitated block) is finished: checkpoint saved, test recorded. */
  commit(phase: PhaseName, checkpoint: string, block?: number): Promise<void>;
  /** The finished three-stage thin net (for export). */
  finished(net: BlockNet, testAccuracy: number): Promise<void>;
  stageState(phase: PhaseName, state: RunState, extra?: StageStateExtra): void;
}

export interface StageStateExtra {
  accuracy?: number;
  block?: number;
  firstBlock?: number;
  blockLoss?: [number, number];
}

export const checkpointNames = {
  wide: 'wide',
  block: (i: number) => `imitate-block${String(i).padStart(3, '0')}`,
  imitated: 'imitate',
  finetune: 'finetune',
  baseline: (arm: BaselineName) => arm,
};

/** Phases a stage selection runs, in order. */
export function phasesOf(stage: StageName, baselines: readonly BaselineName[]): PhaseName[] {
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
  const needsWide = run.has('imitate') || run.has('finetune') || [...run].some(needsTeacher);
  if (needsWide && !has('wide')) run.add('wide');
  if (run.has('finetune') && !has('imitate')) run.add('imitate');
  const imitateFromBlock = run.has('imitate') && !done.committed.has('imitate') && !run.has('wide') ? done.blocks : 0;
  const restores: string[] = [];
  if (needsWide && !run.has('wide')) restores.push(checkpointNames.wide);
  if (imitateFromBlock > 0) restores.push(checkpointNames.block(imitateFromBlock - 1));
  if (run.has('finetune') && !run.has('imitate')) restores.push(checkpointNames.imitated);
  return { run: PHASE_NAMES.filter((p) => run.has(p)), imitateFromBlock, restores };
}

export function emptyOutcome(seed: number): SeedOutcome {
  return { seed, test: {}, params: { thin: 0, wide: 0 }, seconds: {}, imitation: [] };
}

/** Runs `work` for one seed, filling `outcome` in place (it may carry results of earlier phases). */
export async function runSeed(ctx: StageContext, work: SeedWork, rec: SeedRecorder, outcome: SeedOutcome = emptyOutcome(ctx.seed)): Promise<SeedOutcome> {
  const phases = work.run;
  const recordTest = async (arm: ArmName, phase: PhaseName, net: BlockNet): Promise<number> => {
    const result = await evaluate((x) => net.forward(x, false), ctx.data.test, ctx.data.exampleShape);
    outcome.test[arm] = result.accuracy;
    ctx.report.metric({ seed: ctx.seed, phase, step: -1, loss: result.loss, accuracy: result.accuracy, split: 'test' });
    return result.accuracy;
  };
  const save = (phase: PhaseName, checkpoint: string, net: BlockNet, meta: Record<string, unknown> = {}) => rec.checkpoint(checkpoint, net, { stage: phase, ...meta });
  const needsWide = phases.some((p) => !isBaseline(p) || needsTeacher(p));
  let wide: BlockNet | undefined;
  let thin: BlockNet | undefined;
  try {
    if (needsWide) {
      if (phases.includes('wide')) {
        rec.phaseStarted('wide');
        rec.stageState('wide', 'running');
        const result = await trainWide(ctx);
        wide = result.net;
        outcome.wideValidationAccuracy = result.validationAccuracy;
        outcome.seconds.wide = result.seconds;
        outcome.params.wide = wide.params;
        await save('wide', checkpointNames.wide, wide, { validationAccuracy: result.validationAccuracy });
        await recordTest('wide', 'wide', wide);
        rec.stageState('wide', 'done', { accuracy: result.validationAccuracy });
        await rec.commit('wide', checkpointNames.wide);
      } else {
        wide = buildWideNet(ctx);
        const meta = rec.restore(checkpointNames.wide, wide);
        if (typeof meta.validationAccuracy === 'number') outcome.wideValidationAccuracy ??= meta.validationAccuracy;
        outcome.params.wide = wide.params;
      }
    }

    if (phases.includes('imitate') || phases.includes('finetune')) {
      thin = buildThinNet(ctx);
      outcome.params.thin = thin.params;
      if (phases.includes('imitate')) await imitateStage(ctx, work.imitateFromBlock, thin, wide!, rec, outcome);
      else rec.restore(checkpointNames.imitated, thin);
      if (phases.includes('finetune')) {
        rec.phaseStarted('finetune');
        rec.stageState('finetune', 'running');
        outcome.seconds.finetune = (await fineTune(ctx, thin, wide!)).seconds;
        await save('finetune', checkpointNames.finetune, thin);
        const accuracy = await recordTest('win', 'finetune', thin);
        await rec.finished(thin, accuracy);
        rec.stageState('finetune', 'done', { accuracy });
        await rec.commit('finetune', checkpointNames.finetune);
      }
      thin.dispose();
      thin = undefined;
    }

    for (const arm of phases.filter(isBaseline)) {
      rec.phaseStarted(arm);
      rec.stageState(arm, 'running');
      const result = await trainBaseline(ctx, arm, wide);
      thin = result.net;
      outcome.params.thin = thin.params;
      outcome.seconds[arm] = result.seconds;
      await save(arm, checkpointNames.baseline(arm), thin);
      const accuracy = await recordTest(arm, arm, thin);
      rec.stageState(arm, 'done', { accuracy });
      await rec.commit(arm, checkpointNames.baseline(arm));
      thin.dispose();
      thin = undefined;
    }
    return outcome;
  } finally {
    thin?.dispose();
    wide?.dispose();
  }
}

/** Imitation of one seed, from its first block or (resumed) from `startBlock`, with a checkpoint and
 *  a commit point after every imitated group. */
async function imitateStage(ctx: StageContext, startBlock: number, thin: BlockNet, wide: BlockNet, rec: SeedRecorder, outcome: SeedOutcome): Promise<void> {
  if (startBlock > 0) {
    rec.restore(checkpointNames.block(startBlock - 1), thin);
    outcome.imitation = outcome.imitation.filter((b) => b.block < startBlock);
  } else {
    rec.phaseStarted('imitate');
    outcome.imitation = [];
    delete outcome.seconds.imitate;
  }
  rec.stageState('imitate', 'running');
  const secondsBefore = outcome.seconds.imitate ?? 0;
  const result = await imitate(ctx, thin, wide, {
    startBlock,
    afterBlock: async (i) => {
      const name = checkpointNames.block(i);
      await rec.checkpoint(name, thin, { stage: 'imitate', block: i });
      await rec.commit('imitate', name, i);
    },
    blockStarted: (block, firstBlock) => rec.stageState('imitate', 'running', { block, firstBlock }),
    blockDone: (b) => {
      outcome.imitation.push(b);
      outcome.seconds.imitate = secondsBefore + outcome.imitation.filter((x) => x.block >= startBlock).reduce((a, x) => a + x.seconds, 0);
      rec.stageState('imitate', 'running', { block: b.block, firstBlock: b.firstBlock, blockLoss: [b.startLoss, b.endLoss] });
    },
  });
  outcome.warmStartAccuracy = result.warmStartAccuracy;
  outcome.headShared = result.headShared;
  outcome.seconds.imitate = secondsBefore + result.seconds;
  await rec.checkpoint(checkpointNames.imitated, thin, { stage: 'imitate', warmStartAccuracy: result.warmStartAccuracy });
  rec.stageState('imitate', 'done', { accuracy: result.warmStartAccuracy });
  await rec.commit('imitate', checkpointNames.imitated);
}

/** Steps a seed's phases will take (for progress and ETA); imitation counted per group, as it runs. */
export function plannedSteps(ctx: StageContext, phases: PhaseName[]): Partial<Record<PhaseName, number>> {
  const count = (phase: PhaseName): number => {
    if (isBaseline(phase)) return baselineSteps(ctx, phase);
    if (phase === 'wide') return wideSteps(ctx);
    return phase === 'imitate' ? imitationSteps(ctx) : fineTuneSteps(ctx);
  };
  return Object.fromEntries(phases.map((phase) => [phase, count(phase)]));
}
