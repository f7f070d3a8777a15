// The training commands: run a stage (or all), stop, resume. Each checks trust, finds its
// experiment, explains why a stage is not ready, follows the run with a cancellable progress
// notification and ends with the result and a Compare Runs button.
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import type { LaunchOptions, RunSummary, StageName, StartStageParams } from '../server/protocol';
import { isActive, remainingStages, resultLine, STAGE_LABELS, stageReadiness } from '../server/editor/run-figures';
import { runsFolderOf } from '../server/runs/names';
import { ensureTrusted, messageOf, type CommandContext, type CommandFactory } from './command-context';
import { launchFor, launchRows, readLaunchSettings } from './launch-choice';
import { resolveRun, resolveTarget } from './selection';

/** Starts `stages` one after another on one run (the first may create it); stops at the first that does not finish.
 *  `how`: the launcher of a new run's jobs, or resume (a launched run resumes as it was planned). */
export async function trainStages(
  ctx: CommandContext,
  experimentPath: string,
  stages: StageName[],
  runId?: string,
  how: Pick<StartStageParams, 'launch' | 'resume'> = {},
): Promise<RunSummary | undefined> {
  let last: RunSummary | undefined;
  let current = runId;
  for (const stage of stages) {
    let started;
    try {
      started = await ctx.startStage({ experimentPath, stage, runId: current, ...how });
    } catch (error) {
      const choice = await ctx.ui.error(`Go Wide: ${STAGE_LABELS[stage]} did not start. ${messageOf(error)}`, 'Show Log');
      if (choice === 'Show Log') ctx.showLog();
      return last;
    }
    current = started.runId;
    ctx.refreshExperiments();
    last = await ctx.followRun(started.runId, `${STAGE_LABELS[stage]}: ${path.basename(experimentPath)}`);
    if (last.state !== 'done') break;
  }
  if (last) await reportOutcome(ctx, last);
  return last;
}

export async function reportOutcome(ctx: CommandContext, run: RunSummary): Promise<void> {
  if (run.state === 'done') {
    const result = resultLine(run);
    const choice = await ctx.ui.info(`Go Wide: ${run.runId} finished${result ? `: ${result}` : ''}.`, 'Compare Runs');
    if (choice === 'Compare Runs') await ctx.webviews.openCompareRuns(run.experimentPath);
    return;
  }
  if (run.state === 'stopped') {
    const choice = await ctx.ui.info(`Go Wide: ${run.runId} stopped. Resume continues it from its last finished stage.`, 'Resume');
    if (choice === 'Resume') await ctx.executeCommand('gowide.resume', { experimentPath: run.experimentPath, runId: run.runId });
    return;
  }
  const choice = await ctx.ui.error(`Go Wide: ${run.runId} failed${run.error ? `: ${run.error}` : ''}.`, 'Show Log');
  if (choice === 'Show Log') ctx.showLog();
}

/**
 * Where Run All Stages runs the run's jobs: gowide.launcher when set; else, where sbatch is found, the
 * user's choice (written to the settings only for an "Always" row); else this machine.
 * `null`: the user dismissed the question or a setting is wrong (said), so nothing starts.
 */
export async function chooseLaunch(ctx: CommandContext): Promise<{ launch?: LaunchOptions } | null> {
  const read = readLaunchSettings(ctx.launchSettingValues());
  if ('problem' in read) {
    await ctx.ui.error(`Go Wide: ${read.problem}`);
    return null;
  }
  const { settings } = read;
  if (settings.launcher) return { launch: launchFor(settings.launcher, settings) };
  if (!ctx.slurmFound()) return { launch: launchFor('local', settings) };
  const choice = await ctx.ui.pick(launchRows(settings, availableParallelism()), {
    title: 'Run All Stages: where do the jobs run?',
    placeholder: 'Slurm (sbatch) was found on this machine; gowide.launcher sets the answer for good',
  });
  if (!choice) return null;
  if (choice.always) await ctx.saveLauncher(choice.launcher);
  return { launch: launchFor(choice.launcher, settings, choice.localJobs) };
}

function stageCommand(stage: StageName): CommandFactory {
  return (ctx) => async (arg?: unknown) => {
    const label = STAGE_LABELS[stage];
    if (!(await ensureTrusted(ctx, label))) return;
    const target = await resolveTarget(ctx, arg, label);
    if (!target) return;
    let runs: RunSummary[];
    try {
      runs = await ctx.listRuns(target.experimentPath);
    } catch (error) {
      await ctx.ui.error(`Go Wide: ${label}: ${messageOf(error)}`);
      return;
    }
    const readiness = stageReadiness(stage, runs);
    if (!readiness.ready) {
      await ctx.ui.warn(`Go Wide: cannot ${label.toLowerCase()} yet: ${readiness.reason}.`);
      return;
    }
    // A run chosen in the explorer is continued when it can be; the wide stage and "all" start afresh.
    const chosen = target.runId && stage !== 'wide' && stage !== 'all' ? stageReadiness(stage, runs.filter((r) => r.runId === target.runId)) : undefined;
    const runId = chosen?.ready ? chosen.runId : readiness.runId;
    const launched = runs.find((r) => r.runId === runId && r.launcher);
    if (launched) {
      await ctx.ui.warn(`Go Wide: ${launched.runId} ran as ${launched.launcher} jobs, which finish their plan together: Resume finishes it, Run All Stages starts a new run.`);
      return;
    }
    const where = stage === 'all' ? await chooseLaunch(ctx) : {};
    if (!where) return;
    await trainStages(ctx, target.experimentPath, [stage], runId, where.launch ? { launch: where.launch } : {});
  };
}

const stop: CommandFactory = (ctx) => async (arg?: unknown) => {
  const target = await resolveTarget(ctx, arg, 'Stop');
  if (!target) return;
  const runs = await ctx.listRuns(target.experimentPath).catch(() => [] as RunSummary[]);
  const run = await resolveRun(ctx.ui, target, runs, 'Stop which run?', (r) => isActive(r.state));
  const runId = run?.runId ?? target.runId;
  if (!runId) {
    await ctx.ui.info('Go Wide: no run of this experiment is in progress.');
    return;
  }
  const runDir = run?.runDir ?? runs.find((r) => r.runId === runId)?.runDir;
  const stopped = await ctx.stopRun(runId, runDir && runsFolderOf(runDir)).catch(async (error) => {
    await ctx.ui.error(`Go Wide: could not stop ${runId}. ${messageOf(error)}`);
    return undefined;
  });
  if (stopped === false) await ctx.ui.info(`Go Wide: ${runId} is not running in this sidecar.`);
};

const resume: CommandFactory = (ctx) => async (arg?: unknown) => {
  if (!(await ensureTrusted(ctx, 'Resume'))) return;
  const target = await resolveTarget(ctx, arg, 'Resume');
  if (!target) return;
  const runs = await ctx.listRuns(target.experimentPath).catch(() => [] as RunSummary[]);
  const resumable = (r: RunSummary) => (r.state === 'stopped' || r.state === 'failed') && remainingStages(r).length > 0;
  const run = await resolveRun(ctx.ui, target, runs, 'Resume which run?', resumable);
  if (!run || !resumable(run)) {
    await ctx.ui.info('Go Wide: nothing to resume: no stopped or failed run of this experiment has stages left.');
    return;
  }
  if (runs.some((r) => isActive(r.state))) {
    await ctx.ui.warn('Go Wide: a run of this experiment is in progress; stop it before resuming another.');
    return;
  }
  // A launched run resumes its own plan: the jobs that did not complete are submitted again.
  if (run.launcher) await trainStages(ctx, target.experimentPath, ['all'], run.runId, { resume: true });
  else await trainStages(ctx, target.experimentPath, remainingStages(run), run.runId);
};

export const TRAINING_COMMANDS: Readonly<Record<string, CommandFactory>> = {
  'gowide.trainWide': stageCommand('wide'),
  'gowide.startImitation': stageCommand('imitate'),
  'gowide.launchFinetune': stageCommand('finetune'),
  'gowide.trainBaselines': stageCommand('baselines'),
  'gowide.runAll': stageCommand('all'),
  'gowide.stop': stop,
  'gowide.resume': resume,
};
