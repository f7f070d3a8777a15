// Kill -9 again and again (issue 7): one run of the real CLI is killed with SIGKILL three times, in
// the wide net's epochs, in the middle of imitation and during fine-tuning, and resumed with
// `gowide run FILE --resume` each time. Its metrics must then have exactly the steps of the same
// experiment run without interruption (none missing, none twice), and every record written before a
// kill that belongs before the resume point must be kept unchanged. Then checkpoints corrupted on
// disk (a flipped byte, a truncated binary, a garbled index) are named by --resume, which falls back
// to the last good one. Last, the sidecar itself is killed mid-imitation and a new one resumes the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MetricRecord } from '../../server/protocol';
import { readMetricsFile } from '../../server/runs/metrics-log';
import { assertMetricsClean } from '../unit/resume-helpers';
import { GetMetricsRequest, StartStageRequest } from '../../server/protocol';
import { assertRunFolderIntact, cli, ensureBuilt, lastJsonLine, slowishExperiment, writeExperiment } from './reliability-helpers';
import { startBuiltSidecar } from './sidecar-process';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Where each record belongs: seed, phase, block, split and step (the values may differ). */
const keyOf = (m: MetricRecord) => `${m.seed}/${m.phase}/${m.block ?? '-'}/${m.split ?? 'train'}/${m.step}`;

test('a run killed three times (wide, imitation, fine-tuning) and resumed each time has every step once', { timeout: 400_000 }, async (t) => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-rel-resume-'));
  try {
    const experiment = slowishExperiment('killed', { wide: { epochs: 6, batchSize: 32, learningRate: 0.003 }, finetune: { epochs: 3, batchSize: 32 } });
    const file = writeExperiment(dir, experiment);
    const args = ['run', file, '--json', '--backend', 'wasm', '--quiet'];

    // The reference: the same experiment, uninterrupted, in its own runs folder.
    const reference = spawnSync(process.execPath, [cli, ...args, '--runs-dir', path.join(dir, 'reference')], { cwd: dir, encoding: 'utf8', timeout: 200_000 });
    assert.equal(reference.status, 0, reference.stderr);
    const expected = readMetricsFile(path.join(lastJsonLine(reference.stdout).runDir, 'metrics.jsonl')).map(keyOf).sort();

    const runsDir = path.join(dir, 'runs');
    const runDir = () => {
      const runs = fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : [];
      return runs.length === 1 ? path.join(runsDir, runs[0]!) : undefined;
    };
    const has = (checkpoint: string) => () => {
      const at = runDir();
      return at !== undefined && fs.existsSync(path.join(at, 'checkpoints', `${checkpoint}.json`));
    };
    const metricsSeen = (phase: string) => () => {
      const at = runDir();
      return at !== undefined && readMetricsFile(path.join(at, 'metrics.jsonl')).some((m) => m.phase === phase && m.step > 0);
    };
    const kills: { when: string; records: MetricRecord[]; keep: number }[] = [];
    const killWhen = async (child: ChildProcess, when: string, ready: () => boolean) => {
      let running = true;
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_, signal) => ((running = false), resolve(signal))));
      const deadline = Date.now() + 150_000;
      while (running && !ready() && Date.now() < deadline) await sleep(5);
      assert.ok(running, `the run was still going at "${when}"`);
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
      // The next resume picks up at the journal's last commit point: the records before it must survive.
      const journal = JSON.parse(fs.readFileSync(path.join(runDir()!, 'progress.json'), 'utf8')) as { entries: { kind: string; metricsSeq: number }[] };
      const commits = journal.entries.filter((e) => e.kind === 'commit');
      kills.push({ when, records: readMetricsFile(path.join(runDir()!, 'metrics.jsonl')), keep: commits.at(-1)?.metricsSeq ?? 0 });
    };
    const start = (...extra: string[]) => spawn(process.execPath, [cli, ...args, '--runs-dir', runsDir, ...extra], { cwd: dir, stdio: 'ignore' });

    await killWhen(start(), 'in the wide net', metricsSeen('wide'));
    await killWhen(start('--resume'), 'in imitation, after block 1', has('seed1-imitate-block001'));
    await killWhen(start('--resume'), 'in fine-tuning', metricsSeen('finetune'));
    const last = spawnSync(process.execPath, [cli, ...args, '--runs-dir', runsDir, '--resume'], { cwd: dir, encoding: 'utf8', timeout: 200_000 });
    assert.equal(last.status, 0, last.stderr);
    const report = lastJsonLine(last.stdout);
    assert.equal(report.state, 'done', report.error);
    assert.equal(report.resumedFrom.stage, 'imitate', 'the last resume picked up after imitation');

    assertRunFolderIntact(report.runDir);
    const final = assertMetricsClean(report.runDir);
    const got = final.map(keyOf).sort();
    const missing = expected.filter((k) => !got.includes(k));
    const extra = got.filter((k) => !expected.includes(k));
    assert.deepEqual(missing, [], 'no step of the uninterrupted run is missing');
    assert.deepEqual(extra, [], 'no step that the uninterrupted run does not have');

    // What came before each resume point was kept as written: the final file starts with those records.
    for (const kill of kills) {
      assert.deepEqual(final.slice(0, kill.keep), kill.records.slice(0, kill.keep), `the ${kill.keep} records before the commit point that preceded the kill ${kill.when} are unchanged`);
    }
    t.diagnostic(
      `3 kills (${kills.map((k) => `${k.when}: ${k.records.length} records on disk, ${k.keep} before its commit point`).join('; ')}), 3 resumes; ` +
        `${final.length} records = the uninterrupted run's ${expected.length} keys, 0 missing, 0 twice`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs `gowide run FILE` into DIR/runs and kills it with SIGKILL once fine-tuning has begun (imitation
 *  is committed); the CLI arguments and the run folder. */
async function killInFinetune(dir: string, file: string): Promise<{ args: string[]; runDir: string }> {
  const runsDir = path.join(dir, 'runs');
  const args = ['run', file, '--runs-dir', runsDir, '--json', '--backend', 'wasm', '--quiet'];
  const child = spawn(process.execPath, [cli, ...args], { cwd: dir, stdio: 'ignore' });
  let running = true;
  const exited = new Promise<void>((resolve) => child.on('exit', () => ((running = false), resolve())));
  const inFinetune = () => {
    const run = fs.existsSync(runsDir) ? fs.readdirSync(runsDir)[0] : undefined;
    return run !== undefined && readMetricsFile(path.join(runsDir, run, 'metrics.jsonl')).some((m) => m.phase === 'finetune');
  };
  const deadline = Date.now() + 150_000;
  while (running && !inFinetune() && Date.now() < deadline) await sleep(5);
  assert.ok(running, 'still running once fine-tuning began');
  child.kill('SIGKILL');
  await exited;
  return { args, runDir: path.join(runsDir, fs.readdirSync(runsDir)[0]!) };
}

test('checkpoints corrupted on disk (flipped byte, truncated binary, garbled index) are named by --resume, which falls back past them', { timeout: 300_000 }, async (t) => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-rel-corrupt-'));
  try {
    const file = writeExperiment(dir, slowishExperiment('corrupt', { finetune: { epochs: 3, batchSize: 32 } }));
    const { args, runDir } = await killInFinetune(dir, file);
    const folder = path.join(runDir, 'checkpoints');

    const flipped = path.join(folder, 'seed1-imitate.bin');
    const bytes = fs.readFileSync(flipped);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    fs.writeFileSync(flipped, bytes);
    const truncated = path.join(folder, 'seed1-imitate-block003.bin');
    fs.truncateSync(truncated, fs.statSync(truncated).size - 4);
    const garbled = path.join(folder, 'seed1-imitate-block002.json');
    fs.writeFileSync(garbled, fs.readFileSync(garbled, 'utf8').slice(0, 40));

    const result = spawnSync(process.execPath, [cli, ...args, '--resume'], { cwd: dir, encoding: 'utf8', timeout: 200_000 });
    assert.equal(result.status, 0, result.stderr);
    const report = lastJsonLine(result.stdout);
    assert.equal(report.state, 'done', report.error);
    const from = report.resumedFrom;
    assert.deepEqual([from.stage, from.block], ['imitate', 1], JSON.stringify(from));
    const said = from.messages.join('\n');
    assert.match(said, new RegExp(`${flipped.replace(/[.]/g, '\\.')} is corrupt \\(sha256 mismatch\\)`), said);
    assert.match(said, new RegExp(`${truncated.replace(/[.]/g, '\\.')} is truncated`), said);
    assert.match(said, new RegExp(`checkpoint index ${garbled.replace(/[.]/g, '\\.')} is corrupt`), said);
    assert.match(said, /falling back to checkpoint seed1-imitate-block001/);
    const verified = assertRunFolderIntact(runDir);
    assertMetricsClean(runDir);
    assert.ok(verified.checkpoints.includes('seed1-imitate-block002') && verified.checkpoints.includes('seed1-imitate'), 'the redone checkpoints were written again and verify');
    t.diagnostic(`3 corrupted checkpoints named; resumed from imitate block 1: ${from.messages.length} messages`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a metrics.jsonl damaged before a commit point is named by --resume, which falls back to a point before the damage', { timeout: 300_000 }, async (t) => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-rel-metrics-'));
  try {
    const file = writeExperiment(dir, slowishExperiment('damaged', { finetune: { epochs: 3, batchSize: 32 } }));
    const { args, runDir } = await killInFinetune(dir, file);
    const metricsFile = path.join(runDir, 'metrics.jsonl');

    // Change one digit of a loss that block 2 of imitation wrote (between the commits of blocks 1 and 2):
    // the line still parses, so only the checksum can tell.
    const lines = fs.readFileSync(metricsFile, 'utf8').split('\n');
    const at = lines.findIndex((line) => line.includes('"phase":"imitate"') && line.includes('"block":2,') && /"loss":0\.\d/.test(line));
    assert.ok(at > 0, 'a block 2 record to damage');
    const original = lines[at]!;
    lines[at] = original.replace(/"loss":0\.(\d)/, (_, d: string) => `"loss":0.${(Number(d) + 1) % 10}`);
    fs.writeFileSync(metricsFile, lines.join('\n'));

    // Without --quiet, so the warnings reach stderr.
    const result = spawnSync(process.execPath, [cli, ...args.filter((a) => a !== '--quiet'), '--resume'], { cwd: dir, encoding: 'utf8', timeout: 200_000 });
    assert.equal(result.status, 0, result.stderr);
    const report = lastJsonLine(result.stdout);
    assert.equal(report.state, 'done', report.error);
    const from = report.resumedFrom;
    assert.deepEqual([from.stage, from.block], ['imitate', 1], JSON.stringify(from));
    assert.ok(from.messages.some((m: string) => m.includes(metricsFile) && /changed or damaged.*sha256 differs/.test(m)), from.messages.join('\n'));
    assert.match(result.stderr, /metrics\.jsonl was changed or damaged/, 'the user is told');
    const final = assertMetricsClean(runDir);
    assert.ok(!fs.readFileSync(metricsFile, 'utf8').includes(lines[at]!), 'the damaged record was recomputed');
    assert.equal(final.filter((m) => m.phase === 'imitate' && m.block === 2 && m.step === 0 && m.split === 'validation').length, 1);
    assertRunFolderIntact(runDir);
    t.diagnostic(`damaged metrics line ${at + 1}: named, resumed from imitate block 1, ${from.droppedMetrics} records after it recomputed`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the sidecar killed with SIGKILL mid-imitation: a new sidecar resumes the run over JSON-RPC with every record once', { timeout: 300_000 }, async (t) => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-rel-sidecar-kill-'));
  const first = startBuiltSidecar();
  let second: ReturnType<typeof startBuiltSidecar> | undefined;
  try {
    const file = writeExperiment(dir, slowishExperiment('sidecar'));
    const runsDir = path.join(dir, 'runs');
    await first.initialize();
    const { runId, runDir } = await first.connection.sendRequest(StartStageRequest, { experimentPath: file, stage: 'all', runsDir });
    const committed = () => {
      try {
        return fs.readFileSync(path.join(runDir, 'progress.json'), 'utf8').includes('"checkpoint": "seed1-imitate-block001"');
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 150_000;
    while (first.child.exitCode === null && !committed() && Date.now() < deadline) await sleep(5);
    assert.ok(committed(), 'block 1 was committed');
    const exited = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    await exited;
    const before = readMetricsFile(path.join(runDir, 'metrics.jsonl'));
    assert.ok(!before.some((m) => m.phase === 'finetune'), 'killed before imitation ended');

    second = startBuiltSidecar();
    await second.initialize();
    const resumed = await second.connection.sendRequest(StartStageRequest, { experimentPath: file, stage: 'all', runsDir, resume: true, wait: true });
    assert.equal(resumed.runId, runId, 'the same run');
    assert.equal(resumed.summary?.state, 'done', resumed.summary?.error);
    assert.ok(second.logs.some((l) => /continuing run .* from seed 1, imitate block [12]/.test(l.message)), second.logs.map((l) => l.message).join('\n'));
    const stored = await second.connection.sendRequest(GetMetricsRequest, { runId, runsDir });
    assert.deepEqual(stored.map((m) => m.seq), stored.map((_, i) => i), 'getMetrics: contiguous seq');
    const metrics = assertMetricsClean(runDir);
    assertRunFolderIntact(runDir);
    for (let block = 0; block < 4; block++) {
      assert.equal(metrics.filter((m) => m.phase === 'imitate' && m.block === block && m.step === 0 && m.split === 'validation').length, 1, `block ${block} measured once`);
    }
    const journal = JSON.parse(fs.readFileSync(path.join(runDir, 'progress.json'), 'utf8')) as { entries: { kind: string; checkpoint?: string; metricsSeq: number }[] };
    const keep = journal.entries.find((e) => e.kind === 'commit' && e.checkpoint === 'seed1-imitate-block001')!.metricsSeq;
    assert.deepEqual(metrics.slice(0, keep), before.slice(0, keep), `the ${keep} records before block 1's commit are unchanged`);
    t.diagnostic(`sidecar killed with ${before.length} records on disk; resumed by a new sidecar, ${keep} kept, ${metrics.length} in the end, every record once`);
  } finally {
    // stop() waits for an exit event, which a killed sidecar has already sent.
    if (first.child.exitCode === null && first.child.signalCode === null) await first.stop();
    else first.connection.dispose();
    await second?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
