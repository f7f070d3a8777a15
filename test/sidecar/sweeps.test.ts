// Sweeps through the real CLI and sidecar (built bundle, wasm, built-in shapes): `gowide run FILE --json`
// on a file naming "sweep" runs each point as an ordinary run, grouped by the sweep folder's sweep.json;
// --resume after a kill keeps the finished point and continues the unfinished one in its own folder; the
// sidecar's gowide/startSweep does the same for the extension.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StartStageRequest, StartSweepRequest, SweepResultsRequest } from '../../server/protocol';
import { listRuns } from '../../server/runs/list';
import { SWEEP_FILE, type SweepRecord } from '../../server/runs/sweep-store';
import { cli, ensureBuilt, lastJsonLine, quickExperiment, slowishExperiment, writeExperiment } from './reliability-helpers';
import { startBuiltSidecar } from './sidecar-process';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const runCli = (dir: string, ...args: string[]) => spawnSync(process.execPath, [cli, 'run', ...args, '--json', '--backend', 'wasm'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
const readSweep = (sweepDir: string) => JSON.parse(fs.readFileSync(path.join(sweepDir, SWEEP_FILE), 'utf8')) as SweepRecord;

test('a sweep of two widening factors x one seed: two ordinary runs, grouped, every arm with its cost', { timeout: 300_000 }, () => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-sweep-'));
  try {
    const file = writeExperiment(dir, quickExperiment('swept', { baselines: ['scratch'], sweep: { 'widen.factor': [2, 4] } }));
    const runsDir = path.join(dir, 'runs');
    const result = runCli(dir, file, '--runs-dir', runsDir);
    assert.equal(result.status, 0, result.stderr);
    const report = lastJsonLine(result.stdout);
    assert.equal(report.experiment, 'swept');
    assert.equal(report.backend, 'wasm');
    assert.deepEqual(report.sweep.map((p: { values: unknown }) => p.values), [{ 'widen.factor': 2 }, { 'widen.factor': 4 }]);
    const [two, four] = report.sweep;
    assert.notEqual(two.runDir, four.runDir);
    for (const point of report.sweep) {
      assert.equal(point.state, 'done');
      assert.deepEqual(Object.keys(point.arms).sort(), ['scratch', 'wide', 'win']);
      assert.equal(typeof point.paired['win-scratch'].mean, 'number', 'win minus scratch, as a single run reports it');
      for (const arm of Object.values(point.arms) as { accuracy: { mean: number; perSeed: number[] }; params: number; flops: number; seconds: number }[]) {
        assert.ok(arm.accuracy.mean >= 0 && arm.accuracy.mean <= 1 && arm.accuracy.perSeed.length === 1);
        assert.ok(arm.params > 0 && arm.flops > 0 && arm.seconds >= 0);
      }
      // The point's run records the swept value in its own experiment snapshot.
      const snapshot = JSON.parse(fs.readFileSync(path.join(point.runDir, 'experiment.json'), 'utf8'));
      assert.equal(snapshot.experiment.widen.factor, point.values['widen.factor']);
      assert.equal(snapshot.experiment.sweep, undefined);
    }
    assert.ok(four.arms.wide.flops > two.arms.wide.flops && four.arms.wide.params > two.arms.wide.params, 'the wider net costs more');
    assert.equal(four.arms.win.flops, two.arms.win.flops, 'the thin net is the same at every factor');

    // Grouped: sweep.json lists both runs; listRuns (the explorer) sees both as ordinary runs of the file.
    const sweep = readSweep(report.sweepDir);
    assert.deepEqual(sweep.points.map((p) => path.join(runsDir, p.runId!)), [two.runDir, four.runDir]);
    assert.deepEqual(listRuns(runsDir, file).map((r) => r.runDir).sort(), [two.runDir, four.runDir].sort());
    assert.match(result.stderr, /widen\.factor\s+arm\s+test accuracy\s+params\s+FLOPs\s+seconds/);

    // A point is the same run as the file with that value written in: same seed, same accuracies.
    const single = writeExperiment(dir, quickExperiment('single', { baselines: ['scratch'], widen: { factor: 4 } }));
    const plain = lastJsonLine(runCli(dir, single, '--runs-dir', path.join(dir, 'single-runs')).stdout);
    for (const arm of ['wide', 'scratch', 'win']) assert.deepEqual(plain.arms[arm].accuracy.perSeed, four.arms[arm].accuracy.perSeed, arm);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad sweep value stops the CLI before any run, naming the sweep entry', () => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-sweep-bad-'));
  try {
    const file = writeExperiment(dir, quickExperiment('bad', { sweep: { 'widen.factor': [2, 4, 100] } }));
    const result = runCli(dir, file, '--runs-dir', path.join(dir, 'runs'));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /sweep\["widen\.factor"\]\[2\].*factor must be <= 64/);
    assert.equal(fs.existsSync(path.join(dir, 'runs')), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--resume on a sweep killed in its second point keeps the first and finishes the second in its own folder', { timeout: 400_000 }, async () => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-sweep-resume-'));
  try {
    const file = writeExperiment(dir, slowishExperiment('halfway', { sweep: { 'widen.factor': [2, 3] } }));
    const runsDir = path.join(dir, 'runs');
    const child = spawn(process.execPath, [cli, 'run', file, '--runs-dir', runsDir, '--backend', 'wasm', '--quiet'], { cwd: dir, stdio: 'ignore' });
    let running = true;
    const exited = new Promise<void>((resolve) => child.on('exit', () => ((running = false), resolve())));
    const sweepDir = () => (fs.existsSync(runsDir) ? fs.readdirSync(runsDir).find((n) => n.startsWith('halfway-sweep-')) : undefined);
    const secondStarted = () => {
      const name = sweepDir();
      if (!name || !fs.existsSync(path.join(runsDir, name, SWEEP_FILE))) return false; // the folder is made first
      const runId = readSweep(path.join(runsDir, name)).points[1].runId;
      return runId !== undefined && fs.existsSync(path.join(runsDir, runId, 'metrics.jsonl')) && fs.statSync(path.join(runsDir, runId, 'metrics.jsonl')).size > 0;
    };
    const deadline = Date.now() + 200_000;
    while (running && !secondStarted() && Date.now() < deadline) await sleep(5);
    assert.ok(running, 'still running once the second point began');
    child.kill('SIGKILL');
    await exited;

    const before = readSweep(path.join(runsDir, sweepDir()!));
    const [first, second] = before.points.map((p) => path.join(runsDir, p.runId!));
    const firstSummary = fs.readFileSync(path.join(first, 'summary.json'), 'utf8');
    assert.equal(JSON.parse(firstSummary).state, 'done');
    assert.notEqual(JSON.parse(fs.readFileSync(path.join(second, 'summary.json'), 'utf8')).state, 'done');

    const result = runCli(dir, file, '--runs-dir', runsDir, '--resume');
    assert.equal(result.status, 0, result.stderr);
    const report = lastJsonLine(result.stdout);
    assert.equal(report.sweepDir, path.join(runsDir, sweepDir()!), 'the same sweep, not a new one');
    assert.deepEqual(report.sweep.map((p: { runDir: string }) => p.runDir), [first, second], 'each point kept its run folder');
    assert.deepEqual(report.sweep.map((p: { state: string }) => p.state), ['done', 'done']);
    assert.equal(fs.readFileSync(path.join(first, 'summary.json'), 'utf8'), firstSummary, 'the finished point was not run again');
    assert.equal(fs.readdirSync(runsDir).length, 3, 'two runs and the sweep folder, nothing more');
    assert.match(result.stderr, /resuming/);

    const again = runCli(dir, file, '--runs-dir', runsDir, '--resume');
    assert.equal(again.status, 1);
    assert.match(again.stderr, /nothing to resume: no unfinished sweep/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the sidecar starts a sweep (gowide/startSweep) and refuses to run a sweep file as one run', { timeout: 300_000 }, async () => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-sweep-sidecar-'));
  const sidecar = startBuiltSidecar();
  try {
    await sidecar.initialize();
    const file = writeExperiment(dir, quickExperiment('served', { sweep: { 'model.width': [4, 8] }, backend: 'wasm' }));
    const runsDir = path.join(dir, 'runs');
    await assert.rejects(sidecar.connection.sendRequest(StartStageRequest, { experimentPath: file, stage: 'all', runsDir }), /names a sweep \(model\.width\)/);
    const result = await sidecar.connection.sendRequest(StartSweepRequest, { experimentPath: file, runsDir, wait: true });
    assert.deepEqual(result.points.map((p) => [p.values, p.summary?.state]), [[{ 'model.width': 4 }, 'done'], [{ 'model.width': 8 }, 'done']]);
    assert.ok(result.points[0].sizes!.thin.params < result.points[1].sizes!.thin.params, 'the wider thin net has more parameters');
    assert.deepEqual(readSweep(result.sweepDir).points.map((p) => p.runId), result.points.map((p) => p.runId));
    await assert.rejects(sidecar.connection.sendRequest(StartSweepRequest, { experimentPath: file, runsDir, resume: true }), /nothing to resume/);
    // What the widening view draws: the newest sweep read back from its folder, as startSweep answered.
    const read = await sidecar.connection.sendRequest(SweepResultsRequest, { experimentPath: file, runsDir });
    assert.deepEqual(read, result);
    assert.equal(await sidecar.connection.sendRequest(SweepResultsRequest, { experimentPath: file, runsDir: path.join(dir, 'elsewhere') }), null);
  } finally {
    await sidecar.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
