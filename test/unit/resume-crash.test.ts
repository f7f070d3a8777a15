// Crash and corruption: a real `gowide run FILE` killed with SIGKILL in the middle of imitation is
// finished by `gowide run FILE --resume --json` from its last block checkpoint, with every metric
// record kept once; a corrupt or truncated checkpoint is named and the run falls back past it.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { runExperiment } from '../../server/method/run-experiment';
import { readJournal } from '../../server/runs/run-journal';
import { syntheticDataset, tinyExperiment, useWasm } from './method-fixtures';
import { assertMetricsClean } from './resume-helpers';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'bin', 'gowide.js');
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-crash-'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('kill -9 mid-imitation, then run --resume finishes the run from the last block checkpoint', async () => {
  if (!fs.existsSync(path.join(root, 'dist', 'cli.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  const dir = tempDir();
  const file = path.join(dir, 'crash.gowide.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      name: 'crash',
      data: { format: 'shapes', trainLimit: 1500, testLimit: 200, validationSplit: 0.2 },
      model: { family: 'mlp', depth: 4, width: 16 },
      widen: { factor: 2 },
      wide: { epochs: 4, batchSize: 64, learningRate: 0.003 },
      imitate: { epochsPerLayer: 24, batchSize: 32 }, // about a second per block
      finetune: { epochs: 1, batchSize: 64 },
      baselines: ['scratch'],
      minWideAccuracy: 0,
      seeds: [1],
    }),
  );
  const checkpoints = (): string[] => {
    const runs = path.join(dir, '.gowide-runs');
    if (!fs.existsSync(runs)) return [];
    return fs.readdirSync(runs).flatMap((run) => {
      const folder = path.join(runs, run, 'checkpoints');
      return fs.existsSync(folder) ? fs.readdirSync(folder) : [];
    });
  };

  const child = spawn(process.execPath, [cli, 'run', file, '--json', '--backend', 'wasm', '--quiet'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let running = true;
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_, signal) => {
      running = false;
      resolve(signal);
    }),
  );
  // Wait for the journal's commit of block 0, not just its checkpoint file: a kill between the two
  // leaves the block uncommitted, and the resume rightly starts from the wide net.
  const committed = (): boolean => {
    const runs = path.join(dir, '.gowide-runs');
    if (!fs.existsSync(runs)) return false;
    return fs.readdirSync(runs).some((run) => {
      try {
        return fs.readFileSync(path.join(runs, run, 'progress.json'), 'utf8').includes('"checkpoint": "seed1-imitate-block000"');
      } catch {
        return false;
      }
    });
  };
  const deadline = Date.now() + 60_000;
  while (running && !committed() && Date.now() < deadline) await sleep(5);
  assert.ok(running, `the run ended before a block checkpoint appeared: ${stderr}`);
  const before = checkpoints();
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL', 'the run was killed, not finished');
  assert.ok(before.includes('seed1-imitate-block000.json'), 'a block checkpoint appeared before the kill');
  assert.ok(!before.includes('seed1-imitate.json'), `killed before imitation ended (${before.join(', ')})`);

  const result = spawnSync(process.execPath, [cli, 'run', file, '--resume', '--json', '--backend', 'wasm'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
  assert.equal(report.state, 'done');
  assert.equal(report.resumedFrom.stage, 'imitate');
  assert.equal(report.resumedFrom.seed, 1);
  assert.ok(Number.isInteger(report.resumedFrom.block) && report.resumedFrom.block >= 0 && report.resumedFrom.block < 3, JSON.stringify(report.resumedFrom));
  for (const arm of ['wide', 'win', 'scratch']) assert.ok(report.arms[arm], arm);
  assert.equal(report.diagnostics.imitation.length, 4, 'every block imitated once');

  const metrics = assertMetricsClean(report.runDir);
  for (let block = 0; block < 4; block++) {
    const start = metrics.filter((m) => m.phase === 'imitate' && m.block === block && m.step === 0 && m.split === 'validation');
    assert.equal(start.length, 1, `block ${block} measured once at its start`);
  }
  assert.equal(metrics.filter((m) => m.split === 'test').length, 3, 'one test record per arm');
  assert.equal(fs.readdirSync(path.join(dir, '.gowide-runs')).length, 1, 'resumed in the same folder');

  const again = spawnSync(process.execPath, [cli, 'run', file, '--resume', '--json', '--backend', 'wasm'], { cwd: dir, encoding: 'utf8' });
  assert.equal(again.status, 1);
  assert.match(again.stderr, /nothing to resume/);
});

test('a corrupt or truncated checkpoint is named and the run falls back to the previous good one', async () => {
  await useWasm();
  const runsDir = tempDir();
  const data = syntheticDataset();
  const controller = new AbortController();
  const common = { runsDir, experimentPath: path.join(runsDir, 'tiny.gowide.json'), loadData: async () => data };
  const experiment = tinyExperiment({ baselines: [] });
  // Stop as soon as fine-tuning begins: imitation is committed, the run is unfinished.
  const stopped = await runExperiment(experiment, {
    ...common,
    signal: controller.signal,
    events: { onRunState: (s) => s.stages.some((x) => x.stage === 'finetune' && x.state === 'running') && controller.abort() },
  });
  assert.equal(stopped.summary.state, 'stopped');
  const folder = path.join(stopped.summary.runDir, 'checkpoints');
  const imitated = path.join(folder, 'seed1-imitate.bin');
  const bytes = fs.readFileSync(imitated);
  bytes[10] ^= 0xff;
  fs.writeFileSync(imitated, bytes);
  const lastBlock = path.join(folder, 'seed1-imitate-block002.bin');
  fs.truncateSync(lastBlock, fs.statSync(lastBlock).size - 8);

  const logs: string[] = [];
  const resumed = await runExperiment(experiment, { ...common, runId: stopped.summary.runId, resume: true, events: { onLog: (_, m) => logs.push(m) } });
  assert.equal(resumed.summary.state, 'done', resumed.summary.error);
  const from = resumed.resumedFrom!;
  assert.deepEqual([from.stage, from.block, from.seed], ['imitate', 1, 1], JSON.stringify(from));
  assert.ok(from.messages.some((m) => m.includes('seed1-imitate.bin') && m.includes('corrupt')), from.messages.join('\n'));
  assert.ok(from.messages.some((m) => m.includes('seed1-imitate-block002.bin') && m.includes('truncated')), from.messages.join('\n'));
  assert.ok(from.messages.some((m) => m.includes('falling back to checkpoint seed1-imitate-block001')), from.messages.join('\n'));
  assert.ok(logs.some((m) => m.includes('corrupt')), 'the user is told');
  assert.ok(from.droppedMetrics > 0, 'records of the redone work were dropped');
  assert.deepEqual(Object.keys(resumed.summary.arms).sort(), ['wide', 'win']);
  assert.equal(resumed.summary.diagnostics!.imitation.length, 3);
  assertMetricsClean(resumed.summary.runDir);
  const journal = readJournal(resumed.summary.runDir)!;
  assert.ok(journal.entries.some((e) => e.kind === 'commit' && e.checkpoint === 'seed1-imitate-block002'));
});
