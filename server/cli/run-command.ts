// `gowide run [FILE] [--backend B] [--json] [--runs-dir DIR] [--seeds 1,2] [--quiet] [--stage S]
//             [--run RUN_ID | --resume]`
// --run continues an existing run with the stage given (keeping its earlier stages and arms);
// A FILE naming a "sweep" runs every grid point through the service (startSweep), prints every arm
// against the swept values (sweep-report.ts), and --resume continues its newest unfinished sweep.
// --resume finishes the latest unfinished run of FILE from its last good checkpoint, and the --json
// line then carries "resumedFrom": {stage, block, seed, checkpoint, droppedMetrics, messages}.
// --launcher local|slurm (or --jobs N>1 alone: local) runs the run as a graph of jobs, each in its own
// process or Slurm job (server/launch/); the --json line then adds "launcher" and "jobs".
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadExperimentFile } from '../experiment/load';
import { packageRoot } from '../package-root';
import { BACKEND_NAMES, LAUNCHER_NAMES, STAGE_NAMES, type BackendName, type LaunchOptions, type StageName, type StartStageResult } from '../protocol';
import { createTrainingService } from '../training/local-service';
import type { TrainingService } from '../training/service';
import { runJobCommand } from '../launch/run-job';
import { jsonReport, progressLine, summaryTable } from './report';
import { sweepJsonReport, sweepTable } from './sweep-report';

export const QUICKSTART = path.join('examples', 'quickstart.gowide.json');

interface RunArgs {
  file?: string;
  backend?: BackendName;
  json: boolean;
  quiet: boolean;
  runsDir?: string;
  seeds?: number[];
  stage: StageName;
  runId?: string;
  resume: boolean;
  /** Job mode: the job to run and the launched run's folder. */
  job?: string;
  runDir?: string;
  /** Run the job graph through a launcher (--launcher, --jobs, ...). */
  launch?: LaunchOptions;
}

/** The launch flags as given, before they are checked together (launchOf). */
interface LaunchFlags {
  launcher?: string;
  jobs?: number;
  slurmOptions: string[];
  gpusPerJob?: number;
  detach: boolean;
  maxRetries?: number;
}

const USAGE =
  'usage: gowide run [FILE] [--backend tensorflow-gpu|tensorflow|webgpu|wasm|cpu] [--json] [--runs-dir DIR] [--seeds 1,2] [--quiet] [--stage S] [--run RUN_ID | --resume]\n' +
  '                  [--launcher local|slurm] [--jobs N] [--slurm-option ARG ...] [--gpus-per-job N] [--detach] [--max-retries N]\n' +
  '       gowide run --job NAME --run-dir RUN [--json] [--backend B]';

export function parseRunArgs(argv: string[]): RunArgs {
  const args: RunArgs = { json: false, quiet: false, stage: 'all', resume: false };
  const launch: LaunchFlags = { slurmOptions: [], detach: false };
  const count = (flag: string, text: string, least: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < least) throw new Error(`${flag}: "${text}" is not a whole number of at least ${least}`);
    return n;
  };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const take = () => inline ?? value(i++, flag);
    switch (flag) {
      case '--json': args.json = true; break;
      case '--quiet': case '-q': args.quiet = true; break;
      case '--backend': {
        const b = take();
        if (!(BACKEND_NAMES as readonly string[]).includes(b)) throw new Error(`--backend: "${b}" is not a backend; use one of ${BACKEND_NAMES.join(', ')}`);
        args.backend = b as BackendName;
        break;
      }
      case '--runs-dir': args.runsDir = take(); break;
      case '--run': args.runId = take(); break;
      case '--resume': args.resume = true; break;
      case '--job': args.job = take(); break;
      case '--launcher': launch.launcher = take(); break;
      case '--jobs': launch.jobs = count(flag, take(), 1); break;
      case '--slurm-option': launch.slurmOptions.push(inline ?? argv[++i] ?? ''); break;
      case '--gpus-per-job': launch.gpusPerJob = count(flag, take(), 1); break;
      case '--detach': launch.detach = true; break;
      case '--max-retries': launch.maxRetries = count(flag, take(), 0); break;
      case '--run-dir': args.runDir = take(); break;
      case '--seeds': {
        const list = take().split(',').map((s) => Number(s.trim()));
        if (list.length === 0 || list.some((n) => !Number.isInteger(n))) throw new Error('--seeds: give integers separated by commas, e.g. --seeds 1,2,3');
        args.seeds = list;
        break;
      }
      case '--stage': {
        const s = take();
        if (!(STAGE_NAMES as readonly string[]).includes(s)) throw new Error(`--stage: "${s}" is not a stage; use one of ${STAGE_NAMES.join(', ')}`);
        args.stage = s as StageName;
        break;
      }
      case '--help': case '-h': throw new Error(USAGE);
      default:
        if (a.startsWith('-')) throw new Error(`unknown option ${a}\n${USAGE}`);
        if (args.file) throw new Error(`one experiment file at a time (got ${args.file} and ${a})`);
        args.file = a;
    }
  }
  if ((args.job === undefined) !== (args.runDir === undefined)) throw new Error('--job NAME and --run-dir RUN go together (one job of a launched run)');
  if (args.job !== undefined) {
    const others = [args.file, args.runsDir, args.runId, args.seeds, args.resume || undefined, args.stage !== 'all' || undefined].some((v) => v !== undefined);
    if (others) throw new Error('--job takes its experiment, seed and stages from the run folder: give only --job, --run-dir, --json, --quiet and --backend');
  }
  if (args.resume && args.runId) throw new Error('--resume picks the latest unfinished run itself; use either --resume or --run RUN_ID');
  args.launch = launchOf(launch);
  if (args.launch && args.job !== undefined) throw new Error('--job runs one job of a launched run itself: give it no launcher options');
  return args;
}

/** The launch options the flags ask for (undefined: one process), or what to fix. */
function launchOf(f: LaunchFlags): LaunchOptions | undefined {
  if (f.launcher !== undefined && !(LAUNCHER_NAMES as readonly string[]).includes(f.launcher)) {
    throw new Error(`--launcher: "${f.launcher}" is not a launcher; use one of ${LAUNCHER_NAMES.join(', ')}`);
  }
  const slurmOnly = [f.slurmOptions.length > 0 && '--slurm-option', f.gpusPerJob !== undefined && '--gpus-per-job', f.detach && '--detach'].filter(Boolean);
  if (f.slurmOptions.some((o) => o === '')) throw new Error('--slurm-option needs a value, e.g. --slurm-option=--partition=gpu');
  const launcher = f.launcher ?? (f.jobs !== undefined && f.jobs > 1 ? 'local' : undefined);
  if (launcher === undefined) {
    if (slurmOnly.length > 0) throw new Error(`${slurmOnly.join(', ')} ${slurmOnly.length > 1 ? 'are' : 'is'} for Slurm: add --launcher slurm`);
    if (f.maxRetries !== undefined) throw new Error('--max-retries is for a run launched as jobs: add --launcher local|slurm, or --jobs N');
    return undefined;
  }
  if (launcher === 'local' && slurmOnly.length > 0) throw new Error(`${slurmOnly.join(', ')} ${slurmOnly.length > 1 ? 'are' : 'is'} for Slurm: use --launcher slurm, or drop ${slurmOnly.length > 1 ? 'them' : 'it'}`);
  if (launcher === 'slurm' && f.jobs !== undefined) throw new Error('--jobs is for the local launcher (Slurm decides how many jobs run at once): drop it, or use --launcher local');
  return {
    launcher: launcher as LaunchOptions['launcher'],
    ...(f.jobs !== undefined ? { jobs: f.jobs } : {}),
    ...(f.slurmOptions.length > 0 ? { slurmOptions: f.slurmOptions } : {}),
    ...(f.gpusPerJob !== undefined ? { gpusPerJob: f.gpusPerJob } : {}),
    ...(f.detach ? { detach: true } : {}),
    ...(f.maxRetries !== undefined ? { maxRetries: f.maxRetries } : {}),
  };
}

export async function runCommand(argv: string[]): Promise<number> {
  const err = (message: string) => process.stderr.write(`gowide run: ${message}\n`);
  let args: RunArgs;
  try {
    args = parseRunArgs(argv);
  } catch (e) {
    err((e as Error).message);
    return 1;
  }
  if (args.job !== undefined) return runJobCommand({ job: args.job, runDir: path.resolve(args.runDir!), backend: args.backend, json: args.json, quiet: args.quiet });
  const file = path.resolve(args.file ?? path.join(packageRoot(), QUICKSTART));
  const showProgress = !args.quiet && process.stderr.isTTY === true;
  let announcedResume = !args.resume || args.quiet;
  // The CLI is a client of the same training service the sidecar serves: its events become lines on stderr.
  const service = createTrainingService({
    onProgress: (p) => showProgress && process.stderr.write(`\r\x1b[2K${progressLine(p)}`),
    onMetrics: () => undefined,
    onRunState: (run) => {
      if (announcedResume) return;
      announcedResume = true;
      process.stderr.write(`gowide run: resuming ${run.runId}\n`);
    },
    onLog: (level, message) => {
      if (!args.quiet && level !== 'info') process.stderr.write(`${showProgress ? '\n' : ''}${message}\n`);
    },
  });

  const controller = new AbortController();
  const onSigint = () => {
    process.stderr.write('\ngowide run: stopping (the run folder keeps everything up to the last checkpoint)\n');
    controller.abort();
  };
  const sweepOf = sweepName(file);
  if (sweepOf !== undefined) {
    if (args.runId) {
      err('--run continues one run; a sweep continues with --resume');
      return 1;
    }
    process.once('SIGINT', onSigint);
    try {
      return await runSweep(service, args, file, sweepOf, controller.signal);
    } finally {
      process.removeListener('SIGINT', onSigint);
      if (showProgress) process.stderr.write('\r\x1b[2K');
    }
  }
  process.once('SIGINT', onSigint);
  let result: StartStageResult;
  try {
    result = await service.startStage(
      {
        experimentPath: file,
        stage: args.stage,
        runId: args.runId,
        resume: args.resume,
        backend: args.backend,
        runsDir: args.runsDir && path.resolve(args.runsDir),
        seeds: args.seeds,
        launch: args.launch,
        wait: true,
      },
      controller.signal,
    );
  } catch (e) {
    // Setup errors (a broken experiment file, no backend, missing or corrupt data, nothing to resume)
    // come before any run folder is made.
    err((e as Error).message);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
    if (showProgress) process.stderr.write('\r\x1b[2K');
  }
  const summary = result.summary!;
  // With --json, stdout carries only the JSON line; the table goes to stderr (unless --quiet).
  if (!args.json) process.stdout.write(`${summaryTable(summary)}\n`);
  else if (!args.quiet) process.stderr.write(`${summaryTable(summary)}\n`);
  const detached = args.launch?.detach === true && isUnderway(summary.state);
  if (detached) err(`submitted ${summary.jobs?.length ?? 0} jobs of run ${summary.runId}; they go on without this process (follow them in the explorer, or with gowide run ${file} --resume)`);
  else if (summary.state !== 'done') err(`${summary.state}: ${summary.error ?? ''}`);
  if (args.json) {
    const report = { ...jsonReport(summary, result.sizes), backend: result.backend, ...(args.resume ? { resumedFrom: result.resumedFrom } : {}) };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  }
  return exitCode(summary.state, detached);
}

/** A detached launch ends as soon as its jobs are submitted: queued or running is then success. */
const isUnderway = (state: string) => state === 'queued' || state === 'running';

function exitCode(state: string, detached: boolean): number {
  if (state === 'done' || (detached && isUnderway(state))) return 0;
  return state === 'stopped' || state === 'not started' ? 130 : 1;
}

/** The experiment's name when FILE names a sweep; undefined otherwise (a broken file included: the
 *  service reports its problems as for any run). */
function sweepName(file: string): string | undefined {
  try {
    const loaded = loadExperimentFile(file);
    return loaded.sweep ? loaded.experiment.name : undefined;
  } catch {
    return undefined;
  }
}

/** Every point of the file's sweep through the service, then the table and the --json line. */
async function runSweep(service: TrainingService, args: RunArgs, file: string, experiment: string, signal: AbortSignal): Promise<number> {
  const err = (message: string) => process.stderr.write(`gowide run: ${message}\n`);
  let report;
  try {
    const result = await service.startSweep(
      { experimentPath: file, stage: args.stage, resume: args.resume, backend: args.backend, runsDir: args.runsDir && path.resolve(args.runsDir), seeds: args.seeds, launch: args.launch, wait: true },
      signal,
    );
    report = sweepJsonReport(experiment, result);
  } catch (e) {
    err((e as Error).message);
    return 1;
  }
  if (!args.json) process.stdout.write(`${sweepTable(report)}\n`);
  else if (!args.quiet) process.stderr.write(`${sweepTable(report)}\n`);
  if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  const detached = args.launch?.detach === true;
  const codes = report.sweep.map((point) => exitCode(point.state, detached));
  return codes.every((c) => c === 0) ? 0 : codes.includes(130) ? 130 : 1;
}
