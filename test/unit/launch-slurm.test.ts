// End to end on a real one-node Slurm cluster (scripts/slurm/start-cluster.sh): `gowide run FILE
// --launcher slurm` submits every job through sbatch (arrays over seeds, afterok edges) and follows
// them with squeue; each job is the built CLI in job mode training on the Fashion-MNIST sample. A sweep
// gives the accuracies the same sweep gives in one local process; a job killed with SIGKILL on the node
// is resubmitted and resumes from its checkpoint; a run stopped with SIGINT cancels its jobs and
// --resume finishes it.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { driverFor } from '../../server/launch/driver-for';
import { jobDir } from '../../server/launch/job-command';
import { jobsFilePath, readJobsFile } from '../../server/launch/jobs-file';
import type { MetricRecord, RunSummary } from '../../server/protocol';
import { getMetrics, readSummary } from '../../server/runs/list';
import { runsFolderOf } from '../../server/runs/names';
import { createTrainingService } from '../../server/training/local-service';
import { FASHION_MNIST_SAMPLE } from './fashion-data';
import { slurmOrSkip } from './slurm-cluster';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'bin', 'gowide.js');
if (!fs.existsSync(path.join(root, 'dist', 'cli.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });

const FACTORS = [2, 3];
const SEEDS = [1, 2];
/** Seconds of training per job: imitation long enough (a few hundred ms a block) to be killed in the middle. */
const SETTINGS = {
  name: 'slurm',
  data: { format: 'fashion-mnist', path: FASHION_MNIST_SAMPLE, trainLimit: 500, testLimit: 200, validationSplit: 0.2 },
  model: { family: 'mlp', depth: 3, width: 8 },
  widen: { factor: FACTORS[0] },
  wide: { epochs: 2, batchSize: 64, learningRate: 0.003 },
  imitate: { epochsPerLayer: 6, batchSize: 32 },
  finetune: { epochs: 1, batchSize: 64 },
  baselines: ['scratch'],
  minWideAccuracy: 0,
  seeds: SEEDS,
};

/** An experiment file in a fresh folder (the folder is on the file system the node shares: it is this machine). */
function experimentFile(extra: object = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-slurm-'));
  const file = path.join(dir, 'slurm.gowide.json');
  fs.writeFileSync(file, JSON.stringify({ ...SETTINGS, ...extra }));
  return file;
}
const runsDirOf = (file: string, what: string) => path.join(path.dirname(file), what);

interface Cli { code: number | null; stdout: string; stderr: string; seconds: number }
function gowide(args: string[], timeout = 300_000): Cli {
  const started = Date.now();
  const r = spawnSync(process.execPath, [cli, 'run', ...args, '--json', '--backend', 'wasm'], { encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - started) / 1000 };
}
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!);

/** Each arm's per-seed test accuracies (what must not depend on where the jobs ran). */
const perSeed = (arms: Record<string, { accuracy: { perSeed: number[] } } | undefined>) =>
  Object.fromEntries(Object.entries(arms).map(([arm, a]) => [arm, a!.accuracy.perSeed]));

/** The same sweep in one local process, once (the reference of the first test, seed 1 of factor 2 for the others). */
let localSweep: { report: { sweep: { values: object; arms: RunSummary['arms'] }[] }; seconds: number } | undefined;
function local() {
  if (localSweep) return localSweep;
  const file = experimentFile({ sweep: { 'widen.factor': FACTORS } });
  const r = gowide([file, '--runs-dir', runsDirOf(file, 'local')]);
  assert.equal(r.code, 0, r.stderr);
  localSweep = { report: lastJson(r.stdout), seconds: r.seconds };
  return localSweep;
}
/** Seed 1 at the first factor, as the local sweep trained it. */
const localSeed1 = () => Object.fromEntries(Object.entries(perSeed(local().report.sweep[0]!.arms)).map(([arm, accs]) => [arm, [accs[SEEDS.indexOf(1)]]]));

/** The launched run folder that appears under `runsDir` (the follower creates it), once jobs.json is there. */
async function launchedRun(runsDir: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = fs.existsSync(runsDir) ? fs.readdirSync(runsDir).map((n) => path.join(runsDir, n)).find((d) => fs.existsSync(jobsFilePath(d))) : undefined;
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no launched run appeared in ${runsDir}`);
    await sleep(50);
  }
}

/** Waits until `job`'s journal has committed its first imitated block; true if it had not finished by then. */
async function firstBlockCommitted(runDir: string, job: string, seed: number): Promise<boolean> {
  const journal = path.join(jobDir(runDir, job), 'progress.json');
  const finished = path.join(jobDir(runDir, job), 'checkpoints', `seed${seed}-finetune.json`);
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    let text = '';
    try { text = fs.readFileSync(journal, 'utf8'); } catch { /* not yet */ }
    if (text.includes(`"checkpoint": "seed${seed}-imitate-block000"`)) return !fs.existsSync(finished);
    await sleep(5);
  }
  throw new Error(`${job} committed no imitated block in 180 s`);
}

const place = (m: MetricRecord) => `${m.seed}/${m.phase}/${m.block ?? '-'}/${m.step}/${m.split ?? '-'}`;
function assertNothingDoubled(runDir: string): void {
  const places = getMetrics(runsFolderOf(runDir), path.basename(runDir)).map(place);
  assert.ok(places.length > 0);
  assert.deepEqual(places.filter((p, i) => places.indexOf(p) !== i), [], 'no (seed, phase, block, step, split) twice');
}

test('a sweep of two factors x two seeds through sbatch: every job COMPLETED, the same accuracies as one local process', async (t) => {
  if (!slurmOrSkip(t)) return;
  const file = experimentFile({ sweep: { 'widen.factor': FACTORS } });
  const r = gowide([file, '--launcher', 'slurm', '--runs-dir', runsDirOf(file, 'slurm')]);
  assert.equal(r.code, 0, r.stderr);
  const report = lastJson(r.stdout) as { sweep: { values: object; runDir: string; state: string; arms: RunSummary['arms'] }[] };
  assert.deepEqual(report.sweep.map((p) => [p.values, p.state]), FACTORS.map((f) => [{ 'widen.factor': f }, 'done']));
  for (const point of report.sweep) {
    const summary = readSummary(point.runDir)!;
    assert.equal(summary.launcher, 'slurm');
    assert.equal(summary.jobs!.length, SEEDS.length * 3, 'wide, win and scratch per seed');
    for (const job of summary.jobs!) {
      assert.equal(job.state, 'COMPLETED', `${job.name}: ${job.reason ?? ''}`);
      assert.equal(job.attempts, 1);
      assert.match(job.jobId!, /^\d+(_\d+)?$/, 'a Slurm job id (JOBID or JOBID_TASK)');
    }
    // The dependency-free groups went as arrays over the seeds.
    assert.deepEqual(summary.jobs!.filter((j) => j.stage === 'wide').map((j) => j.jobId!.split('_')[1]), ['0', '1']);
    assertNothingDoubled(point.runDir);
  }
  const reference = local();
  assert.deepEqual(report.sweep.map((p) => perSeed(p.arms)), reference.report.sweep.map((p) => perSeed(p.arms)), 'same seeds, same accuracies');
  t.diagnostic(`wall time: slurm ${r.seconds.toFixed(1)} s (${FACTORS.length * SEEDS.length * 3} jobs on the one-node cluster), one local process ${reference.seconds.toFixed(1)} s`);
});

test('a job killed with SIGKILL on the node mid-training is resubmitted and resumes from its checkpoint: attempts 2, nothing doubled, same accuracy', async (t) => {
  if (!slurmOrSkip(t)) return;
  const file = experimentFile({ seeds: [1] });
  const runsDir = runsDirOf(file, 'killed');
  const started = Date.now();
  const child = spawn(process.execPath, [cli, 'run', file, '--launcher', 'slurm', '--json', '--backend', 'wasm', '--runs-dir', runsDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

  const runDir = await launchedRun(runsDir);
  assert.ok(await firstBlockCommitted(runDir, 'win-seed1', 1), 'win-seed1 was still training when its first block was committed');
  // The job's own process on the node holds its folder's run.lock.
  const pid = Number(fs.readFileSync(path.join(jobDir(runDir, 'win-seed1'), 'run.lock'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  const killedAt = Date.now();

  assert.equal(await exited, 0, stderr);
  const summary = readSummary(runDir)!;
  assert.equal(summary.state, 'done');
  const win = summary.jobs!.find((j) => j.name === 'win-seed1')!;
  assert.equal(win.state, 'COMPLETED');
  assert.equal(win.attempts, 2);
  const attempts = readJobsFile(runDir).jobs.find((j) => j.name === 'win-seed1')!.attempts;
  assert.equal(attempts[0]!.state, 'FAILED');
  assert.equal(attempts[0]!.reason, 'signal SIGKILL');
  assert.notEqual(attempts[1]!.jobId, attempts[0]!.jobId);
  assert.match(fs.readFileSync(attempts[1]!.log, 'utf8'), /resuming seed 1: imitate, finetune/);
  assert.match(stderr, /job win-seed1 died \(signal SIGKILL\); resubmitting it from its last checkpoint \(attempt 2/);
  for (const j of summary.jobs!.filter((j) => j.name !== 'win-seed1')) assert.equal(j.attempts, 1, j.name);
  assertNothingDoubled(runDir);
  assert.deepEqual(perSeed(lastJson(stdout).arms), localSeed1(), 'the resumed job reaches the uninterrupted accuracy');
  t.diagnostic(`kill to run done: ${((Date.now() - killedAt) / 1000).toFixed(1)} s; whole run ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

test('a run stopped with SIGINT cancels its jobs (CANCELLED), and --resume finishes it without redoing completed jobs', async (t) => {
  if (!slurmOrSkip(t)) return;
  // Imitation ten times longer than the other tests' (about 2 s a block), so that the stop, which goes
  // through squeue and scancel, lands while win-seed1 trains: at a few hundred ms a block it once
  // finished first and the run ended done.
  const file = experimentFile({ seeds: [1], imitate: { ...SETTINGS.imitate, epochsPerLayer: 10 * SETTINGS.imitate.epochsPerLayer } });
  const reference = perSeed(lastJson(gowide([file, '--runs-dir', runsDirOf(file, 'one-process')]).stdout).arms);
  const runsDir = runsDirOf(file, 'stopped');
  const child = spawn(process.execPath, [cli, 'run', file, '--launcher', 'slurm', '--json', '--backend', 'wasm', '--runs-dir', runsDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

  const runDir = await launchedRun(runsDir);
  assert.ok(await firstBlockCommitted(runDir, 'win-seed1', 1), 'win-seed1 was still training when the run was stopped');
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);

  const stopped = readSummary(runDir)!;
  assert.equal(stopped.state, 'stopped');
  const states = Object.fromEntries(stopped.jobs!.map((j) => [j.name, j.state]));
  assert.equal(states['wide-seed1'], 'COMPLETED');
  assert.equal(states['win-seed1'], 'CANCELLED');
  // scancel reached the job's process: it stopped cleanly (its folder says so) rather than dying mid-write.
  const winFolder = () => readSummary(jobDir(runDir, 'win-seed1'))?.state;
  const deadline = Date.now() + 30_000;
  while (winFolder() === 'running' && Date.now() < deadline) await sleep(100);
  assert.equal(winFolder(), 'stopped');
  const before = readJobsFile(runDir);

  const resumed = gowide([file, '--launcher', 'slurm', '--resume', '--runs-dir', runsDir]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const after = readJobsFile(runDir);
  const done = readSummary(runDir)!;
  assert.equal(done.state, 'done');
  assert.ok(done.jobs!.every((j) => j.state === 'COMPLETED'), JSON.stringify(done.jobs));
  const attemptsOf = (f: typeof after, name: string) => f.jobs.find((j) => j.name === name)!.attempts;
  assert.deepEqual(attemptsOf(after, 'wide-seed1'), attemptsOf(before, 'wide-seed1'), 'the completed wide job is kept, not resubmitted');
  assert.equal(attemptsOf(after, 'win-seed1').length, 2);
  assert.match(fs.readFileSync(attemptsOf(after, 'win-seed1')[1]!.log, 'utf8'), /resuming seed 1: imitate, finetune/);
  assertNothingDoubled(runDir);
  assert.deepEqual(perSeed(lastJson(resumed.stdout).arms), reference, 'the resumed run reaches the accuracies of one uninterrupted process');
  t.diagnostic(`resume: ${resumed.seconds.toFixed(1)} s`);
});

test('--detach returns once the jobs are submitted; the run completes on the cluster with nobody following, and Stop from a sidecar that did not start it scancels a detached run', async (t) => {
  if (!slurmOrSkip(t)) return;
  const file = experimentFile({ seeds: [1] });
  const runsDir = runsDirOf(file, 'detached');
  const detached = gowide([file, '--launcher', 'slurm', '--detach', '--runs-dir', runsDir]);
  const report = lastJson(detached.stdout) as { runDir: string; launcher: string; jobs: { stage: string; jobId: string; state: string }[] };
  assert.equal(report.launcher, 'slurm', detached.stderr);
  assert.equal(detached.code, 0, `a detached launch succeeds once its jobs are submitted: ${detached.stderr}`);
  assert.match(detached.stderr, /submitted 3 jobs of run .*; they go on without this process/);
  assert.deepEqual(report.jobs.map((j) => j.stage), ['wide', 'win', 'scratch']);
  assert.ok(report.jobs.every((j) => /^\d+(_\d+)?$/.test(j.jobId)), JSON.stringify(report.jobs));
  const driver = driverFor({ launcher: 'slurm' });
  const known = await driver.poll(report.jobs.map((j) => j.jobId));
  assert.equal(known.size, 3, 'Slurm knows every submitted job');
  const deadline = Date.now() + 180_000;
  while (readSummary(report.runDir)!.state !== 'done' && Date.now() < deadline) await sleep(500);
  const done = readSummary(report.runDir)!;
  assert.equal(done.state, 'done', 'the merged reader sees every job folder done');
  assert.deepEqual(perSeed(done.arms), localSeed1());

  const stopped = gowide([file, '--launcher', 'slurm', '--detach', '--runs-dir', runsDirOf(file, 'detached-stopped')]);
  const { runDir, jobs } = lastJson(stopped.stdout) as { runDir: string; jobs: { jobId: string }[] };
  // Stop as a sidecar that did not start the run sends it (restarted since): the run id and its folder.
  const restarted = createTrainingService({ onProgress: () => undefined, onMetrics: () => undefined, onRunState: () => undefined, onLog: () => undefined });
  assert.deepEqual(await restarted.stop({ runId: path.basename(runDir) }), { stopped: false }, 'without its folder the run is unknown here');
  assert.deepEqual(await restarted.stop({ runId: path.basename(runDir), runsDir: runsFolderOf(runDir) }), { stopped: true });
  // scancel signals the jobs; a running one is CANCELLED once its process has ended.
  const cancelledBy = Date.now() + 60_000;
  const states = async () => [...(await driver.poll(jobs.map((j) => j.jobId))).values()].map((r) => r.state);
  while ((await states()).some((state) => state !== 'CANCELLED') && Date.now() < cancelledBy) await sleep(500);
  assert.deepEqual(await states(), jobs.map(() => 'CANCELLED'));
  assert.ok(readJobsFile(runDir).jobs.every((j) => j.attempts.at(-1)!.state === 'CANCELLED'));
});
