// What each explorer item shows: icon and colour by state, description with the latest figure,
// context value for the menus, stable ids. Pure, so it is unit-tested on recorded runs.
import { JOB_STATES, type BlockState, type JobState, type JobStatus, type ProgressParams, type RunState, type RunSummary, type StageStatus } from '../server/protocol';
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

/** A launched run's description starts with its launcher. */
export function runDescription(run: RunSummary, progress?: ProgressParams): string {
  const text = runStateDescription(run, progress);
  return run.launcher ? `${run.launcher} · ${text}` : text;
}

function runStateDescription(run: RunSummary, progress?: ProgressParams): string {
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
  if (run.launcher) lines.push(`launcher ${run.launcher}, ${run.jobs?.length ?? 0} jobs`);
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

/** The stage's state and latest figure; in a launched run, also the jobs it runs in (`jobs`: the run's). */
export function stageDescription(stage: StageStatus, jobs: readonly JobStatus[] = []): string {
  const figure = stageFigure(stage);
  const blocks = stage.blocks?.length ? blockCountText(stage.blocks) : undefined;
  return [stage.state === 'done' ? undefined : stage.state, figure, stage.stage === 'imitate' ? blocks : undefined, stageJobsText(stage, jobs)].filter(Boolean).join(' · ');
}

/** "in win-seed1 PENDING (Dependency)", or "in 3 jobs: 1 RUNNING, 2 COMPLETED"; undefined in a run without jobs. */
function stageJobsText(stage: StageStatus, jobs: readonly JobStatus[]): string | undefined {
  const own = jobs.filter((job) => job.phases.includes(stage.stage));
  if (own.length === 0) return undefined;
  if (own.length === 1) return `in ${own[0].name} ${jobStateText(own[0])}`;
  const names = own.length === 2 ? own.map((job) => job.name).join(', ') : `${own.length} jobs`;
  return `in ${names}: ${countsText(own.map(jobStateText))}`;
}

/** "2 RUNNING, 1 PENDING (Dependency)": how many of each, in first-seen order. */
function countsText(texts: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const text of texts) counts.set(text, (counts.get(text) ?? 0) + 1);
  return [...counts].map(([text, n]) => `${n} ${text}`).join(', ');
}

export type TreeBlock = NonNullable<StageStatus['blocks']>[number];

export function blockDescription(block: TreeBlock): string {
  if (block.loss === undefined) return block.state;
  const from = block.startLoss !== undefined ? ` (from ${formatLoss(block.startLoss)})` : '';
  return `loss ${formatLoss(block.loss)}${from}`;
}

// ---------- a launched run's jobs ----------

const JOB_ICONS: Record<JobState, StateIcon> = {
  PENDING: ICONS.queued,
  RUNNING: ICONS.running,
  COMPLETED: ICONS.done,
  FAILED: ICONS.failed,
  CANCELLED: ICONS.stopped,
  TIMEOUT: ICONS.failed,
  NODE_FAIL: ICONS.failed,
  OUT_OF_MEMORY: ICONS.failed,
  // Slurm requeues or cancels a preempted job; the follower resubmits it.
  PREEMPTED: ICONS.diverging,
};

export function jobIcon(state: JobState): StateIcon {
  return JOB_ICONS[state] ?? { id: 'circle-outline' };
}

/** States whose reason says something: why the job waits, or why it ended without completing. */
const STATES_WITH_REASON: ReadonlySet<JobState> = new Set(JOB_STATES.filter((state) => state !== 'RUNNING' && state !== 'COMPLETED'));

/** The state in Slurm's words, with the reason where it waits or failed: "PENDING (Dependency)". */
export function jobStateText(job: JobStatus): string {
  const reason = job.reason && job.reason !== 'None' && STATES_WITH_REASON.has(job.state) ? ` (${job.reason})` : '';
  return `${job.state}${reason}`;
}

/** "1234 · PENDING (Dependency)", with "attempt 2" once the job was resubmitted. */
export function jobDescription(job: JobStatus): string {
  return [job.jobId ?? 'not submitted', jobStateText(job), job.attempts > 1 ? `attempt ${job.attempts}` : undefined].filter(Boolean).join(' · ');
}

export function jobTooltip(job: JobStatus): string {
  const lines = [`${job.name}: ${job.phases.map((phase) => PHASE_LABELS[phase]).join(', ')}, seed ${job.seed}`, `job id ${job.jobId ?? '(not submitted yet)'}`, `state ${jobStateText(job)}`];
  if (job.attempts > 1) lines.push(`attempts ${job.attempts}`);
  lines.push(job.log ? `log ${job.log}` : 'no log yet');
  return lines.join('\n');
}

export function jobContextValue(job: JobStatus): string {
  return contextValue('gowide.job', { hasLog: job.log !== undefined });
}

/** The "Jobs" group of a launched run: "slurm · 2 COMPLETED, 1 RUNNING, 3 PENDING", states in Slurm's order. */
export function jobsGroupDescription(run: RunSummary): string {
  const states = (run.jobs ?? []).map((job) => job.state).sort((a, b) => JOB_STATES.indexOf(a) - JOB_STATES.indexOf(b));
  return [run.launcher, countsText(states) || 'no jobs'].filter(Boolean).join(' · ');
}

/** Stable ids: the same run keeps its item (and expansion state) across refreshes. */
export const treeIds = {
  experiment: (experimentUri: string) => experimentUri,
  run: (experimentUri: string, runId: string) => `${experimentUri}#run=${runId}`,
  stage: (experimentUri: string, runId: string, stage: string) => `${experimentUri}#run=${runId}/stage=${stage}`,
  block: (experimentUri: string, runId: string, block: number) => `${experimentUri}#run=${runId}/block=${block}`,
  jobs: (experimentUri: string, runId: string) => `${experimentUri}#run=${runId}/jobs`,
  job: (experimentUri: string, runId: string, job: string) => `${experimentUri}#run=${runId}/job=${job}`,
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
