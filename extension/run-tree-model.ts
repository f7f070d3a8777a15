// What each explorer item shows: icon and colour by state, description with the latest figure,
// context value for the menus, stable ids. Pure, so it is unit-tested on recorded runs.
import type { BlockState, ProgressParams, RunState, RunSummary, StageStatus } from '../server/protocol';
import { hasFinished, isActive, PHASE_LABELS, remainingStages, resultLine, stageFigure, stageReadiness } from '../server/editor/run-figures';
import { formatLoss } from '../server/editor/sparkline';

export interface StateIcon {
  /** Codicon id for ThemeIcon. */
  id: string;
  /** Theme colour id for ThemeColor; absent: the default foreground. */
  color?: string;
}

const ICONS: Record<RunState | BlockState, StateIcon> = {
  queued: { id: 'clock' },
  running: { id: 'sync~spin', color: 'charts.blue' },
  converged: { id: 'pass', color: 'charts.green' },
  diverging: { id: 'warning', color: 'charts.orange' },
  failed: { id: 'error', color: 'charts.red' },
  stopped: { id: 'debug-pause', color: 'charts.yellow' },
  done: { id: 'pass-filled', color: 'charts.green' },
};

export function stateIcon(state: RunState | BlockState): StateIcon {
  return ICONS[state] ?? { id: 'circle-outline' };
}

/** Space-separated flags after the kind, matched in package.json with `viewItem =~ /\bflag\b/`. */
function contextValue(kind: string, flags: Record<string, boolean>): string {
  return [kind, ...Object.entries(flags).filter(([, on]) => on).map(([flag]) => flag)].join(' ');
}

export function experimentContextValue(runs: readonly RunSummary[]): string {
  return contextValue('gowide.experiment', {
    canImitate: stageReadiness('imitate', runs).ready,
    canFinetune: stageReadiness('finetune', runs).ready,
    training: runs.some((r) => isActive(r.state)),
  });
}

export function runContextValue(run: RunSummary): string {
  const active = isActive(run.state);
  return contextValue('gowide.run', {
    running: active,
    resumable: !active && (run.state === 'stopped' || run.state === 'failed') && remainingStages(run).length > 0,
    exportable: run.diagnostics?.model !== undefined,
    hasImitation: run.stages.some((s) => s.stage === 'imitate') || hasFinished(run, 'imitate'),
    deletable: !active,
  });
}

export function stageContextValue(stage: StageStatus, run: RunSummary): string {
  return contextValue('gowide.stage', { [stage.stage]: true, running: stage.state === 'running' && isActive(run.state) });
}

export function runLabel(run: RunSummary): string {
  const when = new Date(run.startedAt);
  return Number.isNaN(when.getTime()) ? run.runId : `${run.runId.replace(/-\d{8}-\d{6}(-\d+)?$/, '')} · ${when.toISOString().slice(0, 16).replace('T', ' ')}`;
}

export function runDescription(run: RunSummary, progress?: ProgressParams): string {
  if (isActive(run.state) && progress) {
    const where = progress.block === undefined ? progress.phase : `${progress.phase} block ${progress.block + 1}`;
    const eta = progress.etaSeconds !== undefined ? `, ${formatDuration(progress.etaSeconds)} left` : '';
    return `${Math.round(progress.fraction * 100)}% · ${where}${eta}`;
  }
  if (run.state === 'done') return resultLine(run) ?? 'done';
  return run.state;
}

export function runTooltip(run: RunSummary): string {
  const lines = [`${run.runId}: ${run.state}`, `started ${run.startedAt}`, `folder ${run.runDir}`];
  if (run.backend) lines.push(`backend ${run.backend}`);
  const result = resultLine(run);
  if (result) lines.push(result);
  if (run.error) lines.push(`error: ${run.error}`);
  return lines.join('\n');
}

export function stageLabel(stage: StageStatus): string {
  return PHASE_LABELS[stage.stage];
}

/** "10 blocks", or "8 blocks in 3 groups" when blocks imitated together (the run lists one per group). */
function blockCountText(blocks: NonNullable<StageStatus['blocks']>): string {
  const total = blocks.reduce((n, b) => Math.max(n, b.index + 1), 0);
  return blocks.some((b) => b.from !== undefined) ? `${total} blocks in ${blocks.length} groups` : `${blocks.length} blocks`;
}

export function stageDescription(stage: StageStatus): string {
  const figure = stageFigure(stage);
  const blocks = stage.blocks?.length ? blockCountText(stage.blocks) : undefined;
  return [stage.state === 'done' ? undefined : stage.state, figure, stage.stage === 'imitate' ? blocks : undefined].filter(Boolean).join(' · ');
}

export type TreeBlock = NonNullable<StageStatus['blocks']>[number];

export function blockDescription(block: TreeBlock): string {
  if (block.loss === undefined) return block.state;
  const from = block.startLoss !== undefined ? ` (from ${formatLoss(block.startLoss)})` : '';
  return `loss ${formatLoss(block.loss)}${from}`;
}

/** Stable ids: the same run keeps its item (and expansion state) across refreshes. */
export const treeIds = {
  experiment: (experimentUri: string) => experimentUri,
  run: (experimentUri: string, runId: string) => `${experimentUri}#run=${runId}`,
  stage: (experimentUri: string, runId: string, stage: string) => `${experimentUri}#run=${runId}/stage=${stage}`,
  block: (experimentUri: string, runId: string, block: number) => `${experimentUri}#run=${runId}/block=${block}`,
};

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export interface ContextKeys {
  'gowide.isTraining': boolean;
  'gowide.canImitate': boolean;
  'gowide.canFinetune': boolean;
  'gowide.canResume': boolean;
}

/** Context keys for an experiment whose runs are `runs` (newest first). Pure. */
export function contextKeysFor(runs: readonly RunSummary[]): ContextKeys {
  return {
    'gowide.isTraining': runs.some((r) => isActive(r.state)),
    'gowide.canImitate': stageReadiness('imitate', runs).ready,
    'gowide.canFinetune': stageReadiness('finetune', runs).ready,
    'gowide.canResume': !runs.some((r) => isActive(r.state)) && runs.some((r) => r.state === 'stopped' || r.state === 'failed'),
  };
}
