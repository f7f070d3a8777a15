// How a run's stages read in words: labels, the latest figure, readiness of the next stage.
// Pure; shared by the sidecar's code lenses and the extension's tree and commands.
import type { PhaseName, RunState, RunSummary, StageName, StageStatus } from '../protocol';
import { formatLoss, formatPercent } from './sparkline';

export const PHASE_LABELS: Record<PhaseName, string> = {
  wide: 'Wide network',
  imitate: 'Layerwise imitation',
  finetune: 'Fine-tuning',
  scratch: 'Baseline: scratch',
  kd: 'Baseline: distillation',
  'scratch-steps': "Control: scratch at win's steps",
  'kd-steps': "Control: distillation at win's steps",
  'scratch-compute': "Control: scratch at win's FLOPs",
};

export const STAGE_LABELS: Record<StageName, string> = {
  wide: 'Train Wide Network',
  imitate: 'Start Layerwise Imitation',
  finetune: 'Launch Fine-Tuning',
  baselines: 'Train Baselines',
  all: 'Run All Stages',
};

/** The latest figure of a stage: accuracy when known, else the last loss. */
export function stageFigure(stage: StageStatus): string | undefined {
  const what = stage.stage === 'imitate' ? 'warm-start acc' : stage.stage === 'wide' ? 'val acc' : 'test acc';
  if (stage.accuracy !== undefined) return `${what} ${formatPercent(stage.accuracy)}`;
  if (stage.lastLoss !== undefined) return `loss ${formatLoss(stage.lastLoss)}`;
  return undefined;
}

export function isActive(state: RunState): boolean {
  return state === 'running' || state === 'queued';
}

export function stageOf(run: RunSummary | undefined, phase: PhaseName): StageStatus | undefined {
  return run?.stages.find((s) => s.stage === phase);
}

/**
 * Whether a run holds the finished result of `phase`. A run continued with a later stage records
 * only that stage, so a later stage's presence also proves the earlier checkpoint exists.
 */
export function hasFinished(run: RunSummary, phase: 'wide' | 'imitate'): boolean {
  const done = (p: PhaseName) => run.stages.some((s) => s.stage === p && s.state === 'done');
  const present = (p: PhaseName) => run.stages.some((s) => s.stage === p);
  if (phase === 'wide') return done('wide') || present('imitate') || present('finetune') || present('kd') || present('kd-steps');
  return done('imitate') || present('finetune');
}

export type Readiness =
  | { ready: true; /** Continue this run; absent: a new run. */ runId?: string }
  | { ready: false; reason: string };

/** Whether `stage` can start for an experiment whose runs are `runs` (newest first), and on which run. */
export function stageReadiness(stage: StageName, runs: readonly RunSummary[]): Readiness {
  const running = runs.find((r) => isActive(r.state));
  if (running) return { ready: false, reason: `run ${running.runId} is still in progress; stop it or wait for it to end` };
  switch (stage) {
    case 'wide':
    case 'all':
      return { ready: true };
    case 'imitate':
    case 'baselines': {
      const withWide = runs.find((r) => hasFinished(r, 'wide'));
      if (!withWide) return { ready: false, reason: 'no run has a trained wide network yet; run "Train Wide Network" first' };
      return { ready: true, runId: withWide.runId };
    }
    case 'finetune': {
      const imitated = runs.find((r) => hasFinished(r, 'imitate'));
      if (!imitated) return { ready: false, reason: 'no run has finished layerwise imitation yet; run "Start Layerwise Imitation" first' };
      return { ready: true, runId: imitated.runId };
    }
  }
}

/** Stages a stopped or failed run still has to do, in order (the baselines map to "baselines"). */
export function remainingStages(run: RunSummary): StageName[] {
  const out: StageName[] = [];
  for (const s of run.stages) {
    if (s.state === 'done') continue;
    const name: StageName = s.stage === 'wide' || s.stage === 'imitate' || s.stage === 'finetune' ? s.stage : 'baselines';
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** "win 91.2% vs scratch 88.0% (+3.2 points)" when the run has both arms. */
export function resultLine(run: RunSummary): string | undefined {
  const win = run.arms.win?.accuracy.mean;
  const scratch = run.arms.scratch?.accuracy.mean;
  if (win === undefined) return undefined;
  if (scratch === undefined) return `win ${formatPercent(win)}`;
  const delta = (win - scratch) * 100;
  return `win ${formatPercent(win)} vs scratch ${formatPercent(scratch)} (${delta >= 0 ? '+' : ''}${delta.toFixed(1)} points)`;
}
