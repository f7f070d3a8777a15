// The local launcher through the built CLI: `gowide run FILE --jobs 2` runs the run's job graph as
// separate `gowide run --job` processes, two at once, and gives the same arms as one process; a job
// killed mid-training is resubmitted and finishes from its checkpoint (or, with --max-retries 0, fails
// the run naming its reason and log); SIGINT cancels the jobs and --resume resubmits only the rest.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { parseRunArgs } from '../../server/cli/run-command';
import { readJobsFile, type JobsFile } from '../../server/launch/jobs-file';
import type { MetricRecord, RunSummary } from '../../server/protocol';
import { createTrainingService } from '../../server/training/local-service';
import { getMetrics } from '../../server/runs/list';
import { slowishExperiment } from '../sidecar/reliability-helpers';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Two seeds, the wide net, win, scratch and kd: eight jobs of a few seconds each. */
const SMALL = {
  data: { format: 'shapes', trainLimit: 800, testLimit: 200, validationSplit: 0.2 },
  model: { family: 'mlp', depth: 2, width: 16 },
  widen: { factor: 2 },
  wide: { epochs: 4, batchSize: 32, learningRate: 0.01 },
  imitate: { epochsPerLayer: 0.5, batchSize: 64 },
  finetune: { epochs: 2, batchSize: 32 },
  baselines: ['scratch', 'kd'],
  minWideAccuracy: 0,
  seeds: [1, 2],
};
/** One seed whose imitation takes about a second per block (4 blocks): time to kill it in the middle. */
const SLOW_IMITATION = slowishExperiment('slow');

function experimentFile(name: string, settings: object): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gowide-launch-${name}-`));
  const file = path.join(dir, `${name}.gowide.json`);
  fs.writeFileSync(file, JSON.stringify({ name, ...settings }));
  return { dir, file };
}

interface Report {
  state: string;
  runDir: string;
  error?: string;
  launcher?: string;
  jobs?: { stage: string; seed: number; jobId: string; state: string }[];
  arms: Record<string, { accuracy: { perSeed: number[] }; params: number }>;
  diagnostics: { imitation: unknown[] };
}

function runCli(dir: string, args: string[]): { status: number | null; report: Report; stderr: string } {
  const result = spawnSync(process.execPath, [cli, 'run', ...args, '--json', '--backend', 'wasm'], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
  const last = result.stdout.trim().split('\n').at(-1);
  assert.ok(last, `no --json line (exit ${result.status}): ${result.stderr}`);
  return { status: result.status, report: JSON.parse(last) as Report, stderr: result.stderr };
}

/** Each arm's per-seed accuracies and size: what two runs of the same experiment must share. */
const armsOf = (report: Report) => Object.fromEntries(Object.entries(report.arms).map(([arm, a]) => [arm, { perSeed: a.accuracy.perSeed, params: a.params }]));

/** The only run folder under dir's runs folder. */
function onlyRun(dir: string): string | undefined {
  const runs = path.join(dir, '.gowide-runs');
  const names = fs.existsSync(runs) ? fs.readdirSync(runs) : [];
  return names.length === 1 ? path.join(runs, names[0]) : undefined;
}

function jobsOf(runDir: string | undefined): JobsFile | undefined {
  if (!runDir) return undefined;
  try {
    return readJobsFile(runDir);
  } catch {
    return undefined; // not written yet
  }
}

/** `gowide run FILE ...` in the background, with a way to wait for a condition on its run folder. */
function startCli(dir: string, args: string[]) {
  const child = spawn(process.execPath, [cli, 'run', ...args, '--json', '--backend', 'wasm'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let running = true;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running = false;
      resolve(code);
    }),
  );
  return {
    child,
    exited,
    report: () => JSON.parse(stdout.trim().split('\n').at(-1)!) as Report,
    stderr: () => stderr,
    /** Polls until `ready` holds (then returns its value), failing if the CLI ends or a minute passes. */
    async until<T>(what: string, ready: () => T | undefined | false): Promise<T> {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const value = ready();
        if (value) return value;
        assert.ok(running, `the run ended before ${what}: ${stderr}`);
        assert.ok(Date.now() < deadline, `no ${what} within a minute: ${stderr}`);
        await sleep(20);
      }
    },
  };
}

/** The pid training job `name` of the run: its own folder's run.lock, once the job has committed `checkpoint`. */
function jobPidAfter(runDir: string | undefined, name: string, checkpoint: string): number | undefined {
  if (!runDir) return undefined;
  const folder = path.join(runDir, 'jobs', name);
  try {
    if (!fs.readFileSync(path.join(folder, 'progress.json'), 'utf8').includes(`"checkpoint": "${checkpoint}"`)) return undefined;
    return Number(fs.readFileSync(path.join(folder, 'run.lock'), 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** The merged metrics of a launched run: seq 0..n-1 and no (job, seed, phase, block, step, split) twice. */
function assertMergedMetricsClean(runDir: string): MetricRecord[] {
  const metrics = getMetrics(path.dirname(runDir), path.basename(runDir));
  assert.deepEqual(
    metrics.map((m) => m.seq),
    metrics.map((_, i) => i),
  );
  const keys = metrics.map((m) => `${m.seed}/${m.phase}/${m.block ?? '-'}/${m.step}/${m.split ?? '-'}/${m.epoch ?? '-'}`);
  assert.deepEqual(
    keys.filter((k, i) => keys.indexOf(k) !== i),
    [],
    'no record twice',
  );
  return metrics;
}

/** Kills the win job of SLOW_IMITATION once it committed its first imitated block. */
async function killWinMidImitation(run: ReturnType<typeof startCli>, dir: string): Promise<void> {
  const pid = await run.until('the win job committed block 0', () => jobPidAfter(onlyRun(dir), 'win-seed1', 'seed1-imitate-block000'));
  process.kill(pid, 'SIGKILL');
}

test('the launch flags: --jobs N>1 alone means local, Slurm-only flags need --launcher slurm, bad values are named', () => {
  const launch = (...flags: string[]) => parseRunArgs(['x.gowide.json', ...flags]).launch;
  assert.deepEqual(launch('--jobs', '2'), { launcher: 'local', jobs: 2 });
  assert.equal(launch('--jobs', '1'), undefined, 'one job at a time is one process');
  assert.deepEqual(launch('--launcher', 'local', '--max-retries', '0'), { launcher: 'local', maxRetries: 0 });
  assert.deepEqual(launch('--launcher', 'slurm', '--slurm-option', '--partition=debug', '--slurm-option=--time=5', '--gpus-per-job', '1', '--detach'), {
    launcher: 'slurm',
    slurmOptions: ['--partition=debug', '--time=5'],
    gpusPerJob: 1,
    detach: true,
  });
  assert.throws(() => launch('--detach'), /--detach is for Slurm: add --launcher slurm/);
  assert.throws(() => launch('--jobs', '2', '--gpus-per-job', '1'), /--gpus-per-job is for Slurm: use --launcher slurm/);
  assert.throws(() => launch('--launcher', 'pbs'), /--launcher: "pbs" is not a launcher; use one of local, slurm/);
  assert.throws(() => launch('--launcher', 'slurm', '--jobs', '2'), /--jobs is for the local launcher/);
  assert.throws(() => launch('--jobs', '0'), /--jobs: "0" is not a whole number of at least 1/);
  assert.throws(() => launch('--max-retries', '1'), /--max-retries is for a run launched as jobs/);
  assert.throws(() => launch('--launcher', 'slurm', '--slurm-option'), /--slurm-option needs a value/);
});

let single: Report;

before(() => {
  if (!fs.existsSync(cli)) execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'ignore' });
  const { dir, file } = experimentFile('small', SMALL);
  const result = runCli(dir, [file]);
  assert.equal(result.status, 0, result.stderr);
  single = result.report;
});

test('--jobs 2 runs every job of the graph as its own process and gives the arms of one process', () => {
  const { dir, file } = experimentFile('small', SMALL);
  const { status, report, stderr } = runCli(dir, [file, '--jobs', '2']);
  assert.equal(status, 0, stderr);
  assert.equal(report.state, 'done');
  assert.equal(report.launcher, 'local');
  const jobs = report.jobs!;
  assert.deepEqual(jobs.map((j) => `${j.stage}-seed${j.seed}`).sort(), ['kd-seed1', 'kd-seed2', 'scratch-seed1', 'scratch-seed2', 'wide-seed1', 'wide-seed2', 'win-seed1', 'win-seed2']);
  assert.ok(jobs.every((j) => j.state === 'COMPLETED' && /^local-\d+$/.test(j.jobId)), JSON.stringify(jobs));
  for (const j of jobs) assert.ok(fs.existsSync(path.join(report.runDir, 'jobs', `${j.stage}-seed${j.seed}`, 'summary.json')), `job folder of ${j.stage}-seed${j.seed}`);
  assert.deepEqual(armsOf(report), armsOf(single), 'same seeds, same accuracies as one process');
  assert.deepEqual(report.diagnostics.imitation, single.diagnostics.imitation);
  const metrics = assertMergedMetricsClean(report.runDir);
  assert.equal(metrics.filter((m) => m.split === 'test').length, 8, 'one test record per arm and seed');
});

test('a job killed mid-imitation is resubmitted and finishes from its checkpoint, nothing doubled', async () => {
  const { dir, file } = experimentFile('slow', SLOW_IMITATION);
  const run = startCli(dir, [file, '--jobs', '2']);
  await killWinMidImitation(run, dir);
  assert.equal(await run.exited, 0, run.stderr());
  const report = run.report();
  assert.equal(report.state, 'done');
  assert.ok(report.jobs!.every((j) => j.state === 'COMPLETED'));
  const win = readJobsFile(report.runDir).jobs.find((j) => j.name === 'win-seed1')!;
  assert.equal(win.attempts.length, 2, 'resubmitted once');
  assert.equal(win.attempts[0].state, 'FAILED');
  assert.equal(win.attempts[0].reason, 'signal SIGKILL');
  assert.equal(win.attempts[1].state, 'COMPLETED');
  assert.match(fs.readFileSync(win.attempts[1].log, 'utf8'), /resuming seed 1: imitate, finetune/);
  assert.match(run.stderr(), /job win-seed1 died \(signal SIGKILL\); resubmitting it/);
  assert.equal(report.diagnostics.imitation.length, 4, 'every block imitated once');
  const metrics = assertMergedMetricsClean(report.runDir);
  for (let block = 0; block < 4; block++) {
    assert.equal(metrics.filter((m) => m.phase === 'imitate' && m.block === block && m.step === 0 && m.split === 'validation').length, 1, `block ${block} measured once at its start`);
  }
  assert.equal(metrics.filter((m) => m.split === 'test').length, 3, 'one test record per arm');
});

test('--max-retries 0: a killed job fails the run with its reason and its log', async () => {
  const { dir, file } = experimentFile('slow', SLOW_IMITATION);
  const run = startCli(dir, [file, '--jobs', '2', '--max-retries', '0']);
  await killWinMidImitation(run, dir);
  assert.equal(await run.exited, 1, run.stderr());
  const report = run.report();
  assert.equal(report.state, 'failed');
  const log = path.join(report.runDir, 'jobs', 'win-seed1.attempt1.log');
  assert.ok(report.error?.includes('signal SIGKILL') && report.error.includes(log), report.error);
  assert.ok(fs.existsSync(log));
  const win = report.jobs!.find((j) => j.stage === 'win')!;
  assert.equal(win.state, 'FAILED');
  assert.equal(readJobsFile(report.runDir).jobs.find((j) => j.name === 'win-seed1')!.attempts.length, 1, 'not resubmitted');
  assert.ok(report.jobs!.find((j) => j.stage === 'scratch')!.state === 'COMPLETED', 'the independent job still finished');
});

test('SIGINT cancels the jobs; --resume resubmits only the unfinished ones and gives the same arms', async () => {
  const { dir, file } = experimentFile('small', SMALL);
  const run = startCli(dir, [file, '--jobs', '2']);
  await run.until('a job completed', () => jobsOf(onlyRun(dir))?.jobs.some((j) => j.attempts.at(-1)?.state === 'COMPLETED'));
  run.child.kill('SIGINT');
  assert.equal(await run.exited, 130, run.stderr());
  const stopped = run.report();
  assert.equal(stopped.state, 'stopped');
  const before = readJobsFile(stopped.runDir);
  const completed = before.jobs.filter((j) => j.attempts.at(-1)?.state === 'COMPLETED').map((j) => j.name);
  const cancelled = before.jobs.filter((j) => j.attempts.at(-1)?.state === 'CANCELLED').map((j) => j.name);
  assert.ok(completed.length > 0 && cancelled.length > 0, JSON.stringify(before.jobs.map((j) => [j.name, j.attempts.at(-1)?.state])));
  assert.equal(completed.length + cancelled.length, before.jobs.length, 'every job completed or was cancelled');
  for (const name of cancelled) {
    const lock = path.join(stopped.runDir, 'jobs', name, 'run.lock');
    assert.ok(!fs.existsSync(lock), `job ${name} ended before the CLI did`);
  }

  const { status, report, stderr } = runCli(dir, [file, '--resume']);
  assert.equal(status, 0, stderr);
  assert.equal(report.runDir, stopped.runDir, 'resumed in the same folder');
  assert.equal(report.state, 'done');
  const after = readJobsFile(report.runDir);
  for (const job of after.jobs) {
    const earlier = before.jobs.find((j) => j.name === job.name)!;
    if (completed.includes(job.name)) assert.deepEqual(job.attempts, earlier.attempts, `${job.name} kept, not resubmitted`);
    else assert.equal(job.attempts.length, earlier.attempts.length + 1, `${job.name} resubmitted once`);
  }
  assert.deepEqual(armsOf(report), armsOf(single), 'same arms as one process');
  assertMergedMetricsClean(report.runDir);
});

test('through the service (as the sidecar serves it): events carry the merged run, stop cancels its jobs', async () => {
  const { dir, file } = experimentFile('small', SMALL);
  const states: RunSummary[] = [];
  const metrics: MetricRecord[] = [];
  const service = createTrainingService({ onProgress: () => undefined, onMetrics: (_, records) => metrics.push(...records), onRunState: (run) => states.push(run), onLog: () => undefined });
  const runsDir = path.join(dir, '.gowide-runs');
  const started = await service.startStage({ experimentPath: file, stage: 'all', runsDir, backend: 'wasm', launch: { launcher: 'local', jobs: 2 } });
  const deadline = Date.now() + 60_000;
  while (!metrics.some((m) => m.phase === 'wide' && m.split === 'test') && Date.now() < deadline) await sleep(50);
  assert.ok(metrics.length > 0 && metrics.every((m) => m.runId === started.runId), 'records under the parent run id');
  assert.deepEqual(
    metrics.map((m) => m.seq),
    metrics.map((_, i) => i),
  );
  assert.equal((await service.stop({ runId: started.runId })).stopped, true);
  let run: RunSummary | undefined;
  while (Date.now() < deadline && (run = (await service.listRuns({ runsDir }))[0])?.state !== 'stopped') await sleep(50);
  assert.equal(run?.state, 'stopped', JSON.stringify(run?.jobs));
  assert.ok(run!.jobs!.some((j) => j.state === 'CANCELLED'));
  assert.ok(states.length > 0 && states.every((s) => s.runId === started.runId && s.launcher === 'local'));
});
