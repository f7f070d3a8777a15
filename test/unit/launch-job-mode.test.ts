// Job mode and the merged readers: real `gowide run --job NAME --run-dir RUN` processes train the jobs
// of a launched run (created by createLaunchedRun) on the Fashion-MNIST sample, several at once, one
// killed with SIGKILL and run again; readSummary / listRuns / getMetrics show the run as one run whose
// arms equal a single process's run of the same experiment and seed.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadExperimentFile } from '../../server/experiment/load';
import { JOB_EXIT, jobDir } from '../../server/launch/job-command';
import { createLaunchedRun, jobsFilePath } from '../../server/launch/jobs-file';
import type { MetricRecord, PhaseName, RunSummary } from '../../server/protocol';
import { getMetrics, listRuns, readSummary } from '../../server/runs/list';
import { readMetricsFile } from '../../server/runs/metrics-log';
import { runsFolderOf } from '../../server/runs/names';
import { FASHION_MNIST_SAMPLE } from './fashion-data';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'bin', 'gowide.js');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PHASES: PhaseName[] = ['wide', 'imitate', 'finetune', 'scratch', 'kd'];

if (!fs.existsSync(path.join(root, 'dist', 'cli.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });

/** A tiny experiment in a fresh folder, its data path relative to that folder (jobs run from elsewhere). */
function experimentFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-jobs-'));
  const file = path.join(dir, 'jobs.gowide.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      name: 'jobs',
      data: { format: 'fashion-mnist', path: path.relative(dir, FASHION_MNIST_SAMPLE), trainLimit: 500, testLimit: 200, validationSplit: 0.2 },
      model: { family: 'mlp', depth: 3, width: 8 },
      widen: { factor: 2 },
      wide: { epochs: 2, batchSize: 64, learningRate: 0.003 },
      imitate: { epochsPerLayer: 6, batchSize: 32 }, // a few hundred ms per block: room to kill mid-imitation
      finetune: { epochs: 1, batchSize: 64 },
      baselines: ['scratch', 'kd'],
      minWideAccuracy: 0,
      seeds: [1],
    }),
  );
  return file;
}

function launch(file: string): string {
  const { experiment } = loadExperimentFile(file);
  const runsDir = path.join(path.dirname(file), 'launched');
  return createLaunchedRun({ runsDir, experiment, experimentPath: file, phases: PHASES, seeds: [1], launch: { launcher: 'local' }, backend: 'wasm' }).runDir;
}

const jobArgs = (runDir: string, job: string) => [cli, 'run', '--job', job, '--run-dir', runDir, '--json'];

/** Runs one job process to its end (from the filesystem root: nothing may depend on the working folder). */
function runJob(runDir: string, job: string) {
  return spawnSync(process.execPath, jobArgs(runDir, job), { cwd: '/', encoding: 'utf8', timeout: 120_000 });
}

function startJob(runDir: string, job: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, jobArgs(runDir, job), { cwd: '/', stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

/** A single process's run of the same file and seed: its summary and metric records. */
let single: { summary: RunSummary; metrics: MetricRecord[] } | undefined;
function singleRun(file: string) {
  if (single) return single;
  const result = spawnSync(process.execPath, [cli, 'run', file, '--json', '--backend', 'wasm', '--quiet', '--runs-dir', path.join(path.dirname(file), 'single')], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 0, result.stderr);
  const runDir = JSON.parse(result.stdout.trim().split('\n').at(-1)!).runDir as string;
  single = { summary: readSummary(runDir)!, metrics: readMetricsFile(path.join(runDir, 'metrics.jsonl')) };
  return single;
}

/** What a metric record says, without where it was numbered (seq, runId) or when (time). */
const content = (m: MetricRecord) => JSON.stringify({ ...m, seq: undefined, runId: undefined, time: undefined });
const place = (m: MetricRecord) => `${m.seed}/${m.phase}/${m.block ?? '-'}/${m.step}/${m.split ?? '-'}`;

/** Accuracy and size of each arm (seconds differ from run to run). */
const armResults = (s: RunSummary) => Object.fromEntries(Object.entries(s.arms).map(([arm, a]) => [arm, { accuracy: a!.accuracy, params: a!.params }]));

test('jobs run as separate processes, three at once, give the same arms as one process; the merged metrics hold every record once', async () => {
  const file = experimentFile();
  const runDir = launch(file);
  const wide = runJob(runDir, 'wide-seed1');
  assert.equal(wide.status, JOB_EXIT.done, wide.stderr);

  const ended = await Promise.all(['win-seed1', 'scratch-seed1', 'kd-seed1'].map((job) => startJob(runDir, job)));
  for (const e of ended) assert.equal(e.code, JOB_EXIT.done, e.stderr);

  const reference = singleRun(file);
  const runsDir = runsFolderOf(runDir);
  const [merged] = listRuns(runsDir, file);
  assert.equal(merged.runDir, runDir);
  assert.equal(merged.state, 'done');
  assert.equal(merged.launcher, 'local');
  assert.deepEqual(armResults(merged), armResults(reference.summary), 'every arm: same accuracy and size as one process');
  assert.deepEqual(merged.paired, reference.summary.paired);
  assert.deepEqual(merged.diagnostics?.imitation, reference.summary.diagnostics?.imitation);
  assert.deepEqual(merged.diagnostics?.warmStartAccuracy, reference.summary.diagnostics?.warmStartAccuracy);
  assert.deepEqual(merged.diagnostics?.wideValidationAccuracy, reference.summary.diagnostics?.wideValidationAccuracy);
  assert.equal(merged.diagnostics?.model?.path, path.join(jobDir(runDir, 'win-seed1'), 'model'));
  assert.deepEqual(merged.stages.map((s) => [s.stage, s.state]), PHASES.map((p) => [p, 'done']));
  assert.deepEqual(merged.jobs?.map((j) => [j.name, j.state]), [['wide-seed1', 'COMPLETED'], ['win-seed1', 'COMPLETED'], ['scratch-seed1', 'COMPLETED'], ['kd-seed1', 'COMPLETED']]);

  const metrics = getMetrics(runsDir, merged.runId);
  assert.deepEqual(metrics.map((m) => m.seq), metrics.map((_, i) => i), 'merged seq is 0..n-1 without gaps');
  assert.ok(metrics.every((m) => m.runId === merged.runId));
  assert.ok(metrics.every((m, i) => i === 0 || metrics[i - 1].time <= m.time), 'merged records in time order');
  const own = merged.jobs!.flatMap((j) => readMetricsFile(path.join(jobDir(runDir, j.name), 'metrics.jsonl')).map(content));
  assert.deepEqual(metrics.map(content).sort(), own.sort(), "every job's records appear exactly once");
  assert.deepEqual(metrics.map(content).sort(), reference.metrics.map(content).sort(), 'the same records (losses included) as one process wrote');
  assert.deepEqual(getMetrics(runsDir, merged.runId, 9), metrics.slice(10), 'afterSeq picks up after a held seq');
});

/** Starts the win job (after the wide job) and sends it `signal` once its first imitated block is committed. */
async function interruptWin(runDir: string, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  assert.equal(runJob(runDir, 'wide-seed1').status, JOB_EXIT.done);
  const journal = path.join(jobDir(runDir, 'win-seed1'), 'progress.json');
  const child = spawn(process.execPath, jobArgs(runDir, 'win-seed1'), { cwd: '/', stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => ((running = false), resolve({ code, signal: sig }))));
  const committed = () => {
    try {
      return fs.readFileSync(journal, 'utf8').includes('"checkpoint": "seed1-imitate-block000"');
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 60_000;
  while (running && !committed() && Date.now() < deadline) await sleep(5);
  assert.ok(running, 'the job was still training when its first block was committed');
  child.kill(signal);
  const end = await exited;
  assert.ok(!fs.existsSync(path.join(jobDir(runDir, 'win-seed1'), 'checkpoints', 'seed1-finetune.json')), 'interrupted before the job finished');
  return { ...end, stderr };
}

/** Runs the interrupted win job again: it resumes from its imitation checkpoint and the merged run equals one process's. */
function resumeWin(runDir: string, file: string): void {
  const again = runJob(runDir, 'win-seed1');
  assert.equal(again.status, JOB_EXIT.done, again.stderr);
  assert.match(again.stderr, /resuming seed 1: imitate, finetune/);
  assert.match(again.stderr, /continuing run win-seed1 from seed 1, imitate block \d+; \d+ metric records after it dropped/);

  const metrics = getMetrics(runsFolderOf(runDir), path.basename(runDir));
  const places = metrics.map(place);
  assert.deepEqual(places.filter((p, i) => places.indexOf(p) !== i), [], 'no (seed, phase, block, step, split) twice');
  assert.deepEqual(metrics.map((m) => m.seq), metrics.map((_, i) => i));
  const reference = singleRun(file).summary;
  const merged = readSummary(runDir)!;
  assert.equal(merged.arms.win?.accuracy.mean, reference.arms.win?.accuracy.mean, 'the resumed job reaches the uninterrupted accuracy');
  assert.deepEqual(merged.diagnostics?.imitation, reference.diagnostics?.imitation);
}

test('a job killed with SIGKILL after a commit point resumes from its checkpoint when run again: nothing doubled, same accuracy', async () => {
  const file = experimentFile();
  const runDir = launch(file);
  const killed = await interruptWin(runDir, 'SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');
  assert.equal(readSummary(runDir)!.state, 'running', 'a job neither done nor submitted again leaves the run unfinished');
  resumeWin(runDir, file);
});

test('SIGTERM stops a job cleanly: exit 4, its folder says stopped, and running it again finishes it', async () => {
  const file = experimentFile();
  const runDir = launch(file);
  const stopped = await interruptWin(runDir, 'SIGTERM');
  assert.equal(stopped.code, JOB_EXIT.stopped, stopped.stderr);
  assert.equal(readSummary(jobDir(runDir, 'win-seed1'))!.state, 'stopped');
  const win = readSummary(runDir)!.jobs!.find((j) => j.name === 'win-seed1')!;
  assert.equal(win.state, 'CANCELLED');
  resumeWin(runDir, file);
});

/** Every file under a folder with its size and modification time. */
function snapshot(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).map((e) => {
    const full = path.join(e.parentPath, e.name);
    const st = fs.statSync(full);
    return `${path.relative(dir, full)} ${st.size} ${st.mtimeMs}`;
  }).sort();
}

test('bad input to job mode: a clear message, exit 3 (a retry would fail alike), nothing written', () => {
  const runDir = launch(experimentFile());
  const refused = (job: string, message: RegExp | string) => {
    const before = snapshot(runDir);
    const result = runJob(runDir, job);
    assert.equal(result.status, JOB_EXIT.failed, result.stderr);
    if (typeof message === 'string') assert.ok(result.stderr.includes(message), result.stderr);
    else assert.match(result.stderr, message);
    assert.deepEqual(snapshot(runDir), before, 'nothing written');
  };
  refused('win-seed1', 'job win-seed1 needs the wide net of seed 1: job wide-seed1 has not finished');
  refused('kd-seed1', 'job kd-seed1 needs the wide net of seed 1: job wide-seed1 has not finished');
  refused('nope-seed1', `${jobsFilePath(runDir)} has no job "nope-seed1"; its jobs are wide-seed1, win-seed1, scratch-seed1, kd-seed1`);

  fs.writeFileSync(jobsFilePath(runDir), '{"format": "gowide-jobs-1", "jobs": [');
  refused('wide-seed1', new RegExp(`${jobsFilePath(runDir).replace(/[.]/g, '\\.')} is not valid JSON`));
  fs.writeFileSync(jobsFilePath(runDir), JSON.stringify({ format: 'gowide-jobs-1', launcher: 'local', launch: { launcher: 'local' }, plan: { phases: ['wide'], seeds: [1] }, startedAt: 'x', jobs: [{ name: '../escape', group: 'wide', seed: 1, phases: ['wide'], needs: [], attempts: [] }] }));
  refused('../escape', /jobs\.json is not a gowide jobs file: jobs\[0\] has no usable "name"/);
  assert.equal(readSummary(runDir), undefined, 'a broken jobs.json and no summary: the run is not listed');

  const usage = spawnSync(process.execPath, [cli, 'run', '--job', 'wide-seed1'], { encoding: 'utf8' });
  assert.equal(usage.status, 1);
  assert.match(usage.stderr, /--job NAME and --run-dir RUN go together/);
  const mixed = spawnSync(process.execPath, [cli, 'run', 'x.gowide.json', '--job', 'wide-seed1', '--run-dir', runDir], { encoding: 'utf8' });
  assert.equal(mixed.status, 1);
  assert.match(mixed.stderr, /--job takes its experiment, seed and stages from the run folder/);
});

test("a job's folder left by a process killed while creating it is taken over (empty) or resumed (experiment.json only); one with other files is not", () => {
  const runDir = launch(experimentFile());
  const orphan = jobDir(runDir, 'wide-seed1');
  fs.mkdirSync(orphan, { recursive: true });
  fs.writeFileSync(path.join(orphan, `.experiment.json.${process.pid}.${Date.now()}.tmp`), '{"exp');
  const wide = runJob(runDir, 'wide-seed1');
  assert.equal(wide.status, JOB_EXIT.done, wide.stderr);
  assert.deepEqual(fs.readdirSync(orphan).filter((f) => f.endsWith('.tmp')), [], 'the temporary file is gone');

  // Killed after experiment.json, before its journal: resumed with the job's own phases and seed.
  const early = jobDir(runDir, 'win-seed1');
  fs.mkdirSync(early);
  fs.copyFileSync(path.join(runDir, 'experiment.json'), path.join(early, 'experiment.json'));
  const win = runJob(runDir, 'win-seed1');
  assert.equal(win.status, JOB_EXIT.done, win.stderr);
  assert.match(win.stderr, /resuming seed 1: imitate, finetune/);
  const summary = readSummary(early)!;
  assert.deepEqual(summary.stages.map((s) => [s.stage, s.state]), [['imitate', 'done'], ['finetune', 'done']]);
  assert.deepEqual(Object.keys(summary.arms), ['win']);

  const foreign = jobDir(runDir, 'scratch-seed1');
  fs.mkdirSync(foreign);
  fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
  const refused = runJob(runDir, 'scratch-seed1');
  assert.equal(refused.status, JOB_EXIT.failed);
  assert.ok(refused.stderr.includes(`run folder ${foreign} exists already`), refused.stderr);
  assert.deepEqual(fs.readdirSync(foreign), ['notes.txt']);
});
