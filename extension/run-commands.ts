// Commands on runs and experiments besides training: the webviews (monitor, comparison, widening
// factors), export of the thin model, reveal and delete of run folders, a launched run's job logs.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { JobStatus, RunSummary } from '../server/protocol';
import { hasFinished, isActive } from '../server/editor/run-figures';
import { ensureTrusted, messageOf, type CommandFactory } from './command-context';
import { resolveRun, resolveTarget } from './selection';

const configureWidening: CommandFactory = (ctx) => async (arg?: unknown) => {
  const target = await resolveTarget(ctx, arg, 'Configure Widening Factors');
  if (target) await ctx.webviews.openWideningConfig(target.experimentPath);
};

const openImitationMonitor: CommandFactory = (ctx) => async (arg?: unknown) => {
  const target = await resolveTarget(ctx, arg, 'Open Imitation Monitor');
  if (!target) return;
  const runs = await ctx.listRuns(target.experimentPath).catch(() => [] as RunSummary[]);
  const withImitation = (r: RunSummary) => r.stages.some((s) => s.stage === 'imitate') || hasFinished(r, 'imitate');
  // The run imitating now, else the newest with imitation, else a pick.
  const run = target.runId ? runs.find((r) => r.runId === target.runId) : runs.find((r) => isActive(r.state) && withImitation(r)) ?? runs.find(withImitation);
  if (!run) {
    await ctx.ui.info('Go Wide: no run of this experiment has an imitation stage yet. Start Layerwise Imitation first.');
    return;
  }
  await ctx.webviews.openImitationMonitor(run.runId, target.experimentPath);
};

const compareRuns: CommandFactory = (ctx) => async (arg?: unknown) => {
  const target = await resolveTarget(ctx, arg, 'Compare Runs');
  if (target) await ctx.webviews.openCompareRuns(target.experimentPath);
};

const exportModel: CommandFactory = (ctx) => async (arg?: unknown) => {
  if (!(await ensureTrusted(ctx, 'Export Thin Model'))) return;
  const target = await resolveTarget(ctx, arg, 'Export Thin Model');
  if (!target) return;
  const runs = await ctx.listRuns(target.experimentPath).catch(() => [] as RunSummary[]);
  const run = await resolveRun(ctx.ui, target, runs, 'Export the thin model of which run?', (r) => r.diagnostics?.model !== undefined);
  if (!run?.diagnostics?.model) {
    await ctx.ui.info('Go Wide: no run of this experiment has a thin model yet; it is written when fine-tuning finishes.');
    return;
  }
  const destination = await ctx.ui.pickFolder('Export Thin Model: destination folder', path.dirname(target.experimentPath));
  if (!destination) return;
  try {
    const result = await ctx.exportModel({ runId: run.runId, runsDir: path.dirname(run.runDir), destination });
    const choice = await ctx.ui.info(`Go Wide: exported the thin model (TF.js LayersModel, ${result.files.length} files) to ${result.path}.`, 'Reveal');
    if (choice === 'Reveal') await ctx.ui.revealInOs(path.join(result.path, 'model.json'));
  } catch (error) {
    await ctx.ui.error(`Go Wide: export failed. ${messageOf(error)}`);
  }
};

const revealRunFolder: CommandFactory = (ctx) => async (arg?: unknown) => {
  const target = await resolveTarget(ctx, arg, 'Reveal Run Folder');
  if (!target) return;
  const runs = await ctx.listRuns(target.experimentPath).catch(() => [] as RunSummary[]);
  const run = await resolveRun(ctx.ui, target, runs, 'Reveal which run?');
  if (run) await ctx.ui.revealInOs(run.runDir);
};

const deleteRun: CommandFactory = (ctx) => async (arg?: unknown) => {
  if (!(await ensureTrusted(ctx, 'Delete Run'))) return;
  const target = await resolveTarget(ctx, arg, 'Delete Run');
  if (!target) return;
  const runs = await ctx.listRuns(target.experimentPath).catch(() => [] as RunSummary[]);
  const run = await resolveRun(ctx.ui, target, runs, 'Delete which run?', (r) => !isActive(r.state));
  if (!run) return;
  if (isActive(run.state)) {
    await ctx.ui.warn(`Go Wide: ${run.runId} is in progress; stop it before deleting it.`);
    return;
  }
  if (!(await ctx.ui.confirm(`Delete run ${run.runId}? Its folder (${run.runDir}) with metrics, checkpoints and model is removed.`, 'Delete'))) return;
  try {
    await ctx.deleteRun({ runId: run.runId, runsDir: path.dirname(run.runDir) });
    ctx.refreshExperiments();
  } catch (error) {
    await ctx.ui.error(`Go Wide: could not delete ${run.runId}. ${messageOf(error)}`);
  }
};

/** The job of an explorer item (its `job`), if the argument is one. */
function jobOf(arg: unknown): JobStatus | undefined {
  const job = arg && typeof arg === 'object' ? (arg as { job?: unknown }).job : undefined;
  return job && typeof job === 'object' && typeof (job as JobStatus).name === 'string' ? (job as JobStatus) : undefined;
}

const openJobLog: CommandFactory = (ctx) => async (arg?: unknown) => {
  const job = jobOf(arg);
  if (!job) {
    await ctx.ui.info('Go Wide: Open Job Log opens the log of a job in the explorer: expand a launched run\'s Jobs and choose one.');
    return;
  }
  if (!job.log) {
    await ctx.ui.info(`Go Wide: ${job.name} has no log yet; it gets one when it is submitted.`);
    return;
  }
  if (!existsSync(job.log)) {
    await ctx.ui.warn(`Go Wide: the log of ${job.name} is gone (${job.log}). The run folder was moved or deleted, or this machine does not share the file system the job wrote it on.`);
    return;
  }
  await ctx.ui.openFile(job.log);
};

export const RUN_COMMANDS: Readonly<Record<string, CommandFactory>> = {
  'gowide.configureWidening': configureWidening,
  'gowide.openImitationMonitor': openImitationMonitor,
  'gowide.compareRuns': compareRuns,
  'gowide.exportModel': exportModel,
  'gowide.revealRunFolder': revealRunFolder,
  'gowide.deleteRun': deleteRun,
  'gowide.openJobLog': openJobLog,
};
