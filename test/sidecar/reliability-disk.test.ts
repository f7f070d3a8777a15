// Disk full and permission errors (issue 7), as real OS errors against the real CLI: the run ends with
// a message that names the file and what to do, the run folder stays intact (every checkpoint
// verifies, metrics are whole and contiguous), and the run resumes once the cause is fixed, losing
// no metric record from before its last commit point.
//
// Disk full: the CLI trains onto a 8 MB tmpfs mounted in a private mount namespace (unshare -rm, so
// it works without root); once the wide net is committed the test fills the disk. Permission: the
// run's checkpoints/ folder is made read-only while the CLI trains (as root, the CLI runs as nobody
// through setpriv, since root ignores permission bits).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StartStageRequest } from '../../server/protocol';
import { assertRunFolderIntact, cli, ensureBuilt, lastJsonLine, slowishExperiment, writeExperiment } from './reliability-helpers';
import { startBuiltSidecar } from './sidecar-process';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-rel-disk-'));

/** Records kept from before a failure: the resumed file must start with exactly these. */
function assertPrefixKept(before: { seq: number }[], after: { seq: number }[], dropped: number): number {
  const kept = before.length - dropped;
  assert.ok(kept > 0, 'records from before the failure were kept');
  assert.deepEqual(after.slice(0, kept), before.slice(0, kept), `the first ${kept} metric records are unchanged after the resume`);
  return kept;
}

const DISK_SCRIPT = `
set -u
DISK="$1"; OUT="$2"; FILE="$3"; CLI="$4"; NODE="$5"
mount -t tmpfs -o size=8m gowide-test "$DISK" || exit 90
RUNS="$DISK/runs"
"$NODE" "$CLI" run "$FILE" --runs-dir "$RUNS" --json --backend wasm --quiet > "$OUT/first.out" 2> "$OUT/first.err" &
pid=$!
i=0
while [ $i -lt 3000 ]; do
  if grep -qs '"checkpoint": "seed1-wide"' "$RUNS"/*/progress.json; then break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.02; i=$((i+1))
done
cat /dev/zero > "$DISK/filler" 2>/dev/null
df -k "$DISK" | tail -1 > "$OUT/df-full"
wait $pid; echo $? > "$OUT/first.code"
cp -a "$RUNS" "$OUT/after-full"
rm -f "$DISK/filler"
"$NODE" "$CLI" run "$FILE" --runs-dir "$RUNS" --resume --json --backend wasm --quiet > "$OUT/resume.out" 2> "$OUT/resume.err"
echo $? > "$OUT/resume.code"
cp -a "$RUNS" "$OUT/after-resume"
`;

test('a disk that fills up mid-imitation ends the run with a message; the folder is intact and resumes', { timeout: 240_000 }, (t) => {
  ensureBuilt();
  const dir = tempDir();
  try {
    const probe = spawnSync('unshare', ['-rm', 'true']);
    if (probe.error || probe.status !== 0) {
      t.skip(`unshare -rm is not allowed here (${probe.error?.message ?? probe.stderr}); cannot mount a small disk`);
      return;
    }
    const disk = path.join(dir, 'disk');
    const out = path.join(dir, 'out');
    fs.mkdirSync(disk);
    fs.mkdirSync(out);
    const file = writeExperiment(dir, slowishExperiment('diskfull'));
    const result = spawnSync('unshare', ['-rm', 'bash', '-c', DISK_SCRIPT, 'disk-full', disk, out, file, cli, process.execPath], { encoding: 'utf8', timeout: 220_000 });
    assert.equal(result.status, 0, `the script ran: ${result.stderr}`);
    const read = (name: string) => fs.readFileSync(path.join(out, name), 'utf8');

    // The failing run.
    const stderr = read('first.err');
    assert.equal(read('first.code').trim(), '1', `the run failed: ${stderr}`);
    assert.match(read('df-full'), /\s0\s+100%/, 'the disk was full');
    const failed = lastJsonLine(read('first.out'));
    assert.equal(failed.state, 'failed');
    const runId = path.basename(failed.runDir);
    assert.match(failed.error, /the disk is full \(ENOSPC\)/, failed.error);
    assert.ok(failed.error.includes(path.join(disk, 'runs', runId)), `the message names a file in the run folder: ${failed.error}`);
    assert.match(failed.error, /Free some space.*--resume/, 'and says what to do');
    assert.match(stderr, /disk is full/, 'the user sees it on stderr');
    const full = assertRunFolderIntact(path.join(out, 'after-full', runId));
    assert.ok(full.checkpoints.includes('seed1-wide'), `the wide checkpoint survived: ${full.checkpoints.join(', ')}`);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'after-full', runId, 'summary.json'), 'utf8'));
    assert.ok(['running', 'failed'].includes(summary.state), `summary.json is whole (${summary.state})`);

    // Space freed: --resume finishes from the last commit point without losing what came before.
    assert.equal(read('resume.code').trim(), '0', read('resume.err'));
    const resumed = lastJsonLine(read('resume.out'));
    assert.equal(resumed.state, 'done', resumed.error);
    assert.equal(resumed.resumedFrom.seed, 1);
    assert.ok(['wide', 'imitate'].includes(resumed.resumedFrom.stage), JSON.stringify(resumed.resumedFrom));
    const done = assertRunFolderIntact(path.join(out, 'after-resume', runId));
    const kept = assertPrefixKept(full.metrics, done.metrics, resumed.resumedFrom.droppedMetrics);
    t.diagnostic(
      `disk full: failed with "${failed.error.slice(0, 110)}..."; ${full.checkpoints.length} checkpoints verified after the failure; ` +
        `resumed from ${resumed.resumedFrom.stage}, ${kept} of ${full.metrics.length} records kept (${resumed.resumedFrom.droppedMetrics} after the commit point redone), 0 lost`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a checkpoints folder made read-only mid-run ends the run with a message; the folder is intact and resumes', { timeout: 240_000 }, async (t) => {
  ensureBuilt();
  const dir = tempDir();
  const asRoot = process.getuid?.() === 0;
  try {
    const runAs: string[] = [];
    if (asRoot) {
      const probe = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', '0']);
      if (probe.error || probe.status !== 0) {
        t.skip('running as root without setpriv: permission bits would not apply');
        return;
      }
      runAs.push('setpriv', '--reuid=65534', '--regid=65534', '--clear-groups');
      fs.chownSync(dir, 65534, 65534);
    }
    const file = writeExperiment(dir, slowishExperiment('readonly'));
    const runsDir = path.join(dir, 'runs');
    const command = [...runAs, process.execPath, cli, 'run', file, '--runs-dir', runsDir, '--json', '--backend', 'wasm', '--quiet'];
    const child = spawn(command[0]!, command.slice(1), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let running = true;
    void exited.then(() => (running = false));
    const progress = () => {
      try {
        const run = fs.readdirSync(runsDir)[0];
        return run ? { runDir: path.join(runsDir, run), text: fs.readFileSync(path.join(runsDir, run, 'progress.json'), 'utf8') } : undefined;
      } catch {
        return undefined;
      }
    };
    const deadline = Date.now() + 120_000;
    while (running && !progress()?.text.includes('"checkpoint": "seed1-wide"') && Date.now() < deadline) await sleep(10);
    assert.ok(running, `the run ended before the wide net was committed: ${stderr}`);
    const checkpointsDir = path.join(progress()!.runDir, 'checkpoints');
    fs.chmodSync(checkpointsDir, 0o555);
    const code = await exited;

    assert.equal(code, 1, `the run failed: ${stderr}`);
    const failed = lastJsonLine(stdout);
    assert.equal(failed.state, 'failed');
    assert.match(failed.error, /permission denied \(EACCES\)/, failed.error);
    assert.ok(failed.error.includes(checkpointsDir), `the message names a file in ${checkpointsDir}: ${failed.error}`);
    assert.match(failed.error, /Make that folder writable.*--runs-dir.*--resume/, 'and says what to do');
    const summary = JSON.parse(fs.readFileSync(path.join(failed.runDir, 'summary.json'), 'utf8'));
    assert.equal(summary.state, 'failed', 'summary.json (outside the read-only folder) records the failure');
    assert.equal(summary.error, failed.error);
    assert.ok(!fs.existsSync(path.join(failed.runDir, 'run.lock')), 'the lock was released');
    const before = assertRunFolderIntact(failed.runDir);
    assert.ok(before.checkpoints.includes('seed1-wide'));

    fs.chmodSync(checkpointsDir, 0o755);
    const again = spawnSync(runAs[0] ?? process.execPath, [...runAs.slice(1), ...(runAs.length ? [process.execPath] : []), cli, 'run', file, '--runs-dir', runsDir, '--resume', '--json', '--backend', 'wasm', '--quiet'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 180_000,
    });
    assert.equal(again.status, 0, again.stderr);
    const resumed = lastJsonLine(again.stdout);
    assert.equal(resumed.state, 'done', resumed.error);
    const after = assertRunFolderIntact(failed.runDir);
    const kept = assertPrefixKept(before.metrics, after.metrics, resumed.resumedFrom.droppedMetrics);
    t.diagnostic(`read-only folder: "${failed.error.slice(0, 110)}..."; resumed from ${resumed.resumedFrom.stage}, ${kept} of ${before.metrics.length} records kept, 0 lost`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a runs folder below a regular file is refused before training, naming the path, by the CLI and the sidecar', async () => {
  ensureBuilt();
  const dir = tempDir();
  const sidecar = startBuiltSidecar();
  try {
    const file = writeExperiment(dir, slowishExperiment('notdir', { wide: { epochs: 1 }, imitate: { epochsPerLayer: 1 } }));
    const blocker = path.join(dir, 'blocker');
    fs.writeFileSync(blocker, 'a file, not a folder\n');
    const runsDir = path.join(blocker, 'runs');
    const result = spawnSync(process.execPath, [cli, 'run', file, '--runs-dir', runsDir, '--json', '--backend', 'wasm'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /ENOTDIR/);
    assert.ok(result.stderr.includes(runsDir), `names ${runsDir}: ${result.stderr}`);
    assert.match(result.stderr, /Choose a runs folder that is a folder/);

    await sidecar.initialize();
    await assert.rejects(sidecar.connection.sendRequest(StartStageRequest, { experimentPath: file, stage: 'all', runsDir }), (error: Error) => {
      assert.ok(error.message.includes(runsDir) && /not a folder/.test(error.message), error.message);
      return true;
    });
    assert.equal(fs.readFileSync(blocker, 'utf8'), 'a file, not a folder\n', 'the file in the way is untouched');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['blocker', 'notdir.gowide.json'], 'nothing else was written');
  } finally {
    await sidecar.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
