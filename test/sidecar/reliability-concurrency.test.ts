// Two runs at once and run folders that cannot be escaped (issue 7), with real processes:
// - the CLI and the sidecar (and a second CLI) start the same experiment file into the same runs
//   folder at the same moment: three distinct run folders, each intact, none touching another;
// - a run killed with SIGKILL (its run.lock left behind) is resumed by two CLIs at once: one resumes,
//   the other is refused with a message naming the process, and the folder stays clean;
// - experiment names and run ids that try to leave the runs folder write nothing outside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeleteRunRequest, ExportModelRequest, GetMetricsRequest, StartStageRequest } from '../../server/protocol';
import { assertMetricsClean } from '../unit/resume-helpers';
import { assertRunFolderIntact, cli, ensureBuilt, lastJsonLine, quickExperiment, slowishExperiment, writeExperiment } from './reliability-helpers';
import { startBuiltSidecar } from './sidecar-process';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-rel-conc-'));

function collect(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Every file below `dir`, relative to it. */
function filesBelow(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(path.relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

test('the CLI twice and the sidecar start the same experiment into the same runs folder at once: three distinct, intact runs', { timeout: 240_000 }, async (t) => {
  ensureBuilt();
  const dir = tempDir();
  const sidecar = startBuiltSidecar();
  try {
    const file = writeExperiment(dir, slowishExperiment('together', { wide: { epochs: 2, batchSize: 64 }, imitate: { epochsPerLayer: 4, batchSize: 32 } }));
    const runsDir = path.join(dir, 'runs');
    await sidecar.initialize();
    const args = [cli, 'run', file, '--runs-dir', runsDir, '--json', '--backend', 'wasm', '--quiet'];
    const clis = [0, 1].map(() => collect(spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })));
    const viaSidecar = sidecar.connection.sendRequest(StartStageRequest, { experimentPath: file, stage: 'all', runsDir, wait: true });
    const [first, second] = await Promise.all(clis);
    const started = await viaSidecar;

    const reports = [first!, second!].map((r) => {
      assert.equal(r.code, 0, r.stderr);
      return lastJsonLine(r.stdout);
    });
    assert.equal(started.summary?.state, 'done', started.summary?.error);
    const runDirs = [...reports.map((r) => r.runDir as string), started.runDir];
    assert.equal(new Set(runDirs).size, 3, `three distinct run folders: ${runDirs.join(', ')}`);
    assert.deepEqual(fs.readdirSync(runsDir).sort(), runDirs.map((d) => path.basename(d)).sort(), 'nothing else in the runs folder');
    for (const runDir of runDirs) {
      const runId = path.basename(runDir);
      const { metrics, checkpoints } = assertRunFolderIntact(runDir);
      assertMetricsClean(runDir);
      assert.ok(metrics.length > 0 && metrics.every((m) => m.runId === runId), `${runId}: every record is its own`);
      const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
      assert.equal(summary.runId, runId);
      assert.equal(summary.state, 'done');
      assert.ok(checkpoints.includes('seed1-finetune'), `${runId}: ${checkpoints.join(', ')}`);
      assert.ok(!fs.existsSync(path.join(runDir, 'run.lock')), `${runId}: lock released`);
    }
    t.diagnostic(`concurrent runs: ${runDirs.map((d) => path.basename(d)).join(', ')}`);
  } finally {
    await sidecar.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('two CLIs resuming the same killed run at once: one resumes, the other is refused, the folder stays clean', { timeout: 240_000 }, async (t) => {
  ensureBuilt();
  const dir = tempDir();
  try {
    const file = writeExperiment(dir, slowishExperiment('twice'));
    const runsDir = path.join(dir, 'runs');
    const child = spawn(process.execPath, [cli, 'run', file, '--runs-dir', runsDir, '--json', '--backend', 'wasm', '--quiet'], { cwd: dir, stdio: 'ignore' });
    let running = true;
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    void exited.then(() => (running = false));
    const blockCheckpoint = () => {
      const run = fs.existsSync(runsDir) ? fs.readdirSync(runsDir)[0] : undefined;
      return run !== undefined && fs.existsSync(path.join(runsDir, run, 'checkpoints', 'seed1-imitate-block000.json'));
    };
    const deadline = Date.now() + 120_000;
    while (running && !blockCheckpoint() && Date.now() < deadline) await sleep(5);
    assert.ok(running, 'the run was still going when its first block was committed');
    child.kill('SIGKILL');
    await exited;
    const runId = fs.readdirSync(runsDir)[0]!;
    const lock = path.join(runsDir, runId, 'run.lock');
    assert.equal(fs.readFileSync(lock, 'utf8').trim(), String(child.pid), 'the killed run left its lock behind');

    const args = [cli, 'run', file, '--runs-dir', runsDir, '--resume', '--json', '--backend', 'wasm', '--quiet'];
    const results = await Promise.all([0, 1].map(() => collect(spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }))));
    const winners = results.filter((r) => r.code === 0);
    const losers = results.filter((r) => r.code !== 0);
    assert.equal(winners.length, 1, results.map((r) => `${r.code}: ${r.stderr}`).join('\n---\n'));
    assert.equal(losers.length, 1);
    // Refused by run.lock while the other resumes; or, on a slow machine, told that the other process
    // changed (or finished) the run after this one planned from it.
    assert.match(losers[0]!.stderr, /is in progress in process \d+; stop it first|was changed by another gowide process|nothing to resume/, losers[0]!.stderr);
    const report = lastJsonLine(winners[0]!.stdout);
    assert.equal(report.state, 'done');
    assert.equal(path.basename(report.runDir), runId);
    assert.deepEqual(fs.readdirSync(runsDir), [runId], 'no second folder');
    assertRunFolderIntact(report.runDir);
    const metrics = assertMetricsClean(report.runDir);
    for (let block = 0; block < 4; block++) {
      assert.equal(metrics.filter((m) => m.phase === 'imitate' && m.block === block && m.step === 0 && m.split === 'validation').length, 1, `block ${block} measured once`);
    }
    assert.ok(!fs.existsSync(lock), 'the lock was released');
    t.diagnostic(`refused: ${losers[0]!.stderr.trim().split('\n').at(-1)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('experiment names and run ids cannot write or delete outside the runs folder (CLI and sidecar)', { timeout: 240_000 }, async () => {
  ensureBuilt();
  const root = tempDir();
  const sidecar = startBuiltSidecar();
  try {
    const home = path.join(root, 'project');
    fs.mkdirSync(home);
    const victim = path.join(root, 'victim');
    fs.mkdirSync(victim);
    fs.writeFileSync(path.join(victim, 'experiment.json'), '{"looks":"like a run"}');
    const before = filesBelow(root);
    const runsDir = path.join(home, '.gowide-runs');

    // Names with slashes are refused by validation, naming the field; the others are sanitised.
    for (const name of ['../../escape', '/abs/evil', 'a\\..\\..\\b']) {
      const file = path.join(home, 'slash.gowide.json');
      fs.writeFileSync(file, JSON.stringify(quickExperiment('x', { name })));
      const result = spawnSync(process.execPath, [cli, 'run', file, '--stage', 'wide', '--backend', 'wasm', '--json'], { cwd: home, encoding: 'utf8', timeout: 60_000 });
      assert.equal(result.status, 1, `${name}: ${result.stdout}`);
      assert.match(result.stderr, /name/, `${name}: the message names the field`);
      fs.rmSync(file);
    }
    const accepted = ['..', 'v1..2', '\u2025\u2025', '.hidden', 'C:..', '~', 'x'.repeat(300)];
    for (const [i, name] of accepted.entries()) {
      const file = path.join(home, `n${i}.gowide.json`);
      fs.writeFileSync(file, JSON.stringify(quickExperiment(name)));
      const result = spawnSync(process.execPath, [cli, 'run', file, '--stage', 'wide', '--backend', 'wasm', '--json', '--quiet'], { cwd: home, encoding: 'utf8', timeout: 60_000 });
      assert.equal(result.status, 0, `${JSON.stringify(name)}: ${result.stderr}`);
      const runDir = lastJsonLine(result.stdout).runDir as string;
      assert.equal(path.dirname(runDir), runsDir, `${JSON.stringify(name)} ran in ${runDir}`);
      fs.rmSync(file);
    }
    // Over the sidecar: a name with dots, then run ids that point elsewhere.
    await sidecar.initialize();
    const file = path.join(home, 'dots.gowide.json');
    fs.writeFileSync(file, JSON.stringify(quickExperiment('..dots..')));
    const run = await sidecar.connection.sendRequest(StartStageRequest, { experimentPath: file, stage: 'wide', wait: true });
    assert.equal(path.dirname(run.runDir), runsDir);
    fs.rmSync(file);
    const target = path.join(root, 'target.gowide.json');
    fs.writeFileSync(target, JSON.stringify(quickExperiment('target')));
    before.push('target.gowide.json');
    const escapes = ['..', '../victim', '../../victim', victim, `x/../../victim`, '.', '', `${path.basename(root)}/../victim`];
    for (const runId of escapes) {
      await assert.rejects(sidecar.connection.sendRequest(DeleteRunRequest, { runId, runsDir }), (e: unknown) => e instanceof Error, `deleteRun ${runId}`);
      await assert.rejects(sidecar.connection.sendRequest(GetMetricsRequest, { runId, runsDir }), (e: unknown) => e instanceof Error, `getMetrics ${runId}`);
      if (runId !== '') {
        // A real experiment file, so only the run id can make it fail.
        await assert.rejects(
          sidecar.connection.sendRequest(StartStageRequest, { experimentPath: target, stage: 'wide', runId, runsDir }),
          (e: unknown) => e instanceof Error && /not a run id|leaves the runs folder/.test(e.message),
          `startStage ${runId}`,
        );
      }
      await assert.rejects(
        sidecar.connection.sendRequest(ExportModelRequest, { runId, runsDir, destination: path.join(root, 'exported') }),
        (e: unknown) => e instanceof Error,
        `exportModel ${runId}`,
      );
    }

    const added = filesBelow(root).filter((f) => !before.includes(f));
    const outside = added.filter((f) => !f.startsWith(path.relative(root, runsDir) + path.sep));
    assert.deepEqual(outside, [], 'every new file is inside the runs folder');
    assert.ok(fs.existsSync(path.join(victim, 'experiment.json')), 'the folder outside was not deleted');
    const folders = fs.readdirSync(runsDir);
    assert.equal(folders.length, accepted.length + 1, folders.join(', '));
    for (const folder of folders) assert.match(folder, /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
  } finally {
    await sidecar.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
