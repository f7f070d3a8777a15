// What each explorer item shows: icon and colour by state, description with the latest figure,
// context value for the menus, stable ids. Pure, so it is unit-tested on recorded runs.
import { JOB_STATES, type BlockState, type JobState, type JobStatus, type ProgressParams, type RunState, type RunSummary, type StageStatus, type SweepMembership } from '../server/protocol';
import { hasFinished, isActive, PHASE_LABELS, remainingStages, resultLine, stageFigure, stageReadiness } from '../server/editor/run-figures';
import { formatLoss, formatPercent } from '../server/editor/sparkline';
import { gridPoints } from '../server/experiment/sweep';
import { gridText, pointText } from '../server/sweep-values';

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

/** A point of a sweep reads as its values ("widen.factor 4", under its sweep's item); any other run as
 *  its name and start time. */
export function runLabel(run: RunSummary): string {
  if (run.sweep) return pointText(run.sweep.values);
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

// ---------- sweeps: a sweep's points gathered under one item ----------

/** What an experiment's item lists: runs on their own, and sweeps holding their points' runs. */
export type ExperimentEntry = { kind: 'run'; run: RunSummary } | SweepEntry;
export interface SweepEntry {
  kind: 'sweep';
  sweepId: string;
  grid: SweepMembership['grid'];
  /** The points that have a run, in grid order. */
  points: RunSummary[];
}

/** The experiment's runs (as listRuns gives them) with each sweep's points under one entry; newest first,
 *  a sweep placed by its newest point. */
export function experimentEntries(runs: readonly RunSummary[]): ExperimentEntry[] {
  const entries: ExperimentEntry[] = [];
  const sweeps = new Map<string, SweepEntry>();
  for (const run of runs) {
    if (!run.sweep) {
      entries.push({ kind: 'run', run });
      continue;
    }
    let sweep = sweeps.get(run.sweep.sweepId);
    if (!sweep) {
      sweep = { kind: 'sweep', sweepId: run.sweep.sweepId, grid: run.sweep.grid, points: [] };
      sweeps.set(sweep.sweepId, sweep);
      entries.push(sweep);
    }
    sweep.points.push(run);
  }
  for (const sweep of sweeps.values()) {
    const order = gridPoints(sweep.grid).map((values) => pointText(values));
    sweep.points.sort((a, b) => order.indexOf(pointText(a.sweep!.values)) - order.indexOf(pointText(b.sweep!.values)));
  }
  const newest = (entry: ExperimentEntry) => (entry.kind === 'run' ? entry.run.startedAt : entry.points.reduce((latest, run) => (run.startedAt > latest ? run.startedAt : latest), ''));
  return entries.sort((a, b) => newest(b).localeCompare(newest(a)));
}

export function sweepLabel(sweep: SweepEntry): string {
  return `sweep · ${gridText(sweep.grid)}`;
}

const gridSize = (sweep: SweepEntry) => gridPoints(sweep.grid).length;

/** The finished point with the best win accuracy, if a finished point has one. */
function bestPoint(sweep: SweepEntry): { run: RunSummary; win: number } | undefined {
  let best: { run: RunSummary; win: number } | undefined;
  for (const run of sweep.points) {
    const win = run.arms.win?.accuracy.mean;
    if (run.state === 'done' && win !== undefined && (!best || win > best.win)) best = { run, win };
  }
  return best;
}

/** "2 of 3 done · 1 running · best win 86.2% at widen.factor 8". */
export function sweepDescription(sweep: SweepEntry): string {
  const count = (state: RunState) => sweep.points.filter((run) => run.state === state).length;
  const running = sweep.points.filter((run) => isActive(run.state)).length;
  const best = bestPoint(sweep);
  return [
    `${count('done')} of ${gridSize(sweep)} done`,
    running ? `${running} running` : undefined,
    count('failed') ? `${count('failed')} failed` : undefined,
    count('stopped') ? `${count('stopped')} stopped` : undefined,
    best ? `best win ${formatPercent(best.win)} at ${pointText(best.run.sweep!.values)}` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
}

/** Running while a point runs, done once every point is, failed if one failed, else stopped. */
export function sweepState(sweep: SweepEntry): RunState {
  if (sweep.points.some((run) => isActive(run.state))) return 'running';
  if (sweep.points.filter((run) => run.state === 'done').length === gridSize(sweep)) return 'done';
  return sweep.points.some((run) => run.state === 'failed') ? 'failed' : 'stopped';
}

/** The sweep's folder name, then each grid point: its run's state and result, or "not started". */
export function sweepTooltip(sweep: SweepEntry): string {
  const runOf = new Map(sweep.points.map((run) => [pointText(run.sweep!.values), run]));
  const lines = gridPoints(sweep.grid).map((values) => {
    const run = runOf.get(pointText(values));
    const result = run && resultLine(run);
    return `${pointText(values)}: ${run ? run.state : 'not started'}${result ? ` · ${result}` : ''}`;
  });
  return [sweep.sweepId, ...lines].join('\n');
}

/** Stable ids: the same run keeps its item (and expansion state) across refreshes. */
export const treeIds = {
  experiment: (experimentUri: string) => experimentUri,
  run: (experimentUri: string, runId: string) => `${experimentUri}#run=${runId}`,
  sweep: (experimentUri: string, sweepId: string) => `${experimentUri}#sweep=${sweepId}`,
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
