// The Slurm launcher's driver against a real one-node cluster (scripts/slurm/start-cluster.sh): real
// sbatch, squeue, scontrol and scancel, jobs that are real processes on the node.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobReport, Submission } from '../../server/launch/driver';
import { jobName } from '../../server/launch/job-graph';
import type { JobGroup } from '../../server/protocol';
import { slurmDriver } from '../../server/launch/slurm/slurm-driver';
import { slurmCommand } from '../../server/launch/slurm/slurm-commands';
import { execFileSync, spawnSync } from 'node:child_process';
import { pollUntil, slurmOrSkip } from './slurm-cluster';

let runDir = '';
before(() => { runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-slurm-driver-')); });
after(() => fs.rmSync(runDir, { recursive: true, force: true }));

let seed = 0;
/** A submission of a job running `argv`, its log in the run folder as the follower names it. */
function submission(argv: string[], after: string[] = [], group: JobGroup = 'scratch'): Submission {
  const name = jobName(group, ++seed);
  return { job: { name, group, seed, phases: ['scratch'], needs: [] }, after, argv, log: path.join(runDir, 'jobs', `${name}.attempt1.log`) };
}
const sh = (script: string): string[] => ['sh', '-c', script];
const ended = (r: JobReport | undefined): boolean => !!r && r.state !== 'PENDING' && r.state !== 'RUNNING';
const driver = () => slurmDriver();

test('a job runs its command through sbatch: PENDING or RUNNING, then COMPLETED with its log written', async (t) => {
  if (!slurmOrSkip(t)) return;
  const d = driver();
  const s = submission(sh('sleep 3; echo done'));
  const submitted = Date.now();
  const id = await d.submit(s);
  assert.match(id, /^\d+$/);
  const running = await pollUntil(d, id, (r) => r?.state !== 'PENDING');
  const startedAfterMs = Date.now() - submitted;
  const { last, seen } = await pollUntil(d, id, ended);
  assert.deepEqual(last, { state: 'COMPLETED' });
  assert.equal(seen[0]!.state === 'PENDING' || seen[0]!.state === 'RUNNING', true, JSON.stringify(running.seen));
  assert.ok([...running.seen, ...seen].some((r) => r.state === 'RUNNING'), 'seen RUNNING while it slept');
  assert.equal(fs.readFileSync(s.log, 'utf8'), 'done\n');
  // The script sits beside the log, and names the job in Slurm after the run and the job.
  assert.match(fs.readFileSync(s.log.replace(/\.log$/, '.sh'), 'utf8'), /^#!\/bin\/sh\n[^]*exec 'sh' '-c' 'sleep 3; echo done'\n$/);
  const name = (await slurmCommand('squeue', ['--noheader', '--states=all', `--jobs=${id}`, '--format=%j'])).trim();
  assert.equal(name, `gowide-${path.basename(runDir)}-${s.job.name}`);
  t.diagnostic(`submission to start: ${startedAfterMs} ms`);
});

test('node runs in a job (sbatch passes the environment on) and a command with quotes survives the script', async (t) => {
  if (!slurmOrSkip(t)) return;
  const d = driver();
  const s = submission([process.execPath, '-e', `console.log("it's", process.version)`]);
  const id = await d.submit(s);
  assert.deepEqual((await pollUntil(d, id, ended)).last, { state: 'COMPLETED' });
  assert.equal(fs.readFileSync(s.log, 'utf8'), `it's ${process.version}\n`);
});

test('a group over two seeds is one job array: ids JOBID_0 and JOBID_1, each task its own command and log', async (t) => {
  if (!slurmOrSkip(t)) return;
  const d = driver();
  const subs = [submission(sh('echo first'), [], 'wide'), submission(sh('echo second'), [], 'wide')];
  const ids = await d.submitBatch!(subs);
  assert.equal(ids.length, 2);
  const base = ids[0]!.split('_')[0]!;
  assert.deepEqual(ids, [`${base}_0`, `${base}_1`]);
  for (const id of ids) assert.deepEqual((await pollUntil(d, id, ended)).last, { state: 'COMPLETED' });
  assert.equal(fs.readFileSync(subs[0]!.log, 'utf8'), 'first\n');
  assert.equal(fs.readFileSync(subs[1]!.log, 'utf8'), 'second\n');
  const both = await d.poll(ids);
  assert.deepEqual([...both.keys()].sort(), [...ids].sort());
});

test('a job with afterok waits (reason Dependency) and runs only after the job it needs completed', async (t) => {
  if (!slurmOrSkip(t)) return;
  const d = driver();
  const first = submission(sh('sleep 3; date +%s%N'));
  const firstId = await d.submit(first);
  const second = submission(sh('date +%s%N'), [firstId]);
  const secondId = await d.submit(second);
  const waiting = (await d.poll([secondId])).get(secondId);
  assert.deepEqual(waiting, { state: 'PENDING', reason: 'Dependency' });
  assert.deepEqual((await pollUntil(d, secondId, ended)).last, { state: 'COMPLETED' });
  const firstEnd = BigInt(fs.readFileSync(first.log, 'utf8').trim());
  const secondStart = BigInt(fs.readFileSync(second.log, 'utf8').trim());
  assert.ok(secondStart > firstEnd, `the dependant ran at ${secondStart}, before its dependency's end ${firstEnd}`);
});

test('a job whose dependency failed waits with DependencyNeverSatisfied, and runs once redirected to a succeeding job', async (t) => {
  if (!slurmOrSkip(t)) return;
  const d = driver();
  const failing = await d.submit(submission(sh('exit 3')));
  const dependant = submission(sh('echo dependant ran'), [failing]);
  const dependantId = await d.submit(dependant);
  assert.deepEqual((await pollUntil(d, failing, ended)).last, { state: 'FAILED', reason: 'exit 3' });
  assert.deepEqual((await pollUntil(d, dependantId, (r) => r?.reason === 'DependencyNeverSatisfied')).last,
    { state: 'PENDING', reason: 'DependencyNeverSatisfied' });
  const retry = await d.submit(submission(sh('sleep 1')));
  await d.redirect(dependantId, [retry]);
  assert.deepEqual((await pollUntil(d, dependantId, ended)).last, { state: 'COMPLETED' });
  assert.equal(fs.readFileSync(dependant.log, 'utf8'), 'dependant ran\n');
  assert.equal((await d.poll([retry])).get(retry)?.state, 'COMPLETED');
});

test('a job whose process is killed with SIGKILL is FAILED (signal SIGKILL); a cancelled job is CANCELLED', async (t) => {
  if (!slurmOrSkip(t)) return;
  const d = driver();
  const pidFile = path.join(runDir, 'killed.pid');
  const killed = await d.submit(submission([process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => {}, 120000)`]));
  const cancelled = await d.submit(submission(sh('sleep 120')));
  await pollUntil(d, killed, (r) => r?.state === 'RUNNING');
  while (!fs.existsSync(pidFile) || !fs.readFileSync(pidFile, 'utf8')) await sleep(100);
  process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
  assert.deepEqual((await pollUntil(d, killed, ended)).last, { state: 'FAILED', reason: 'signal SIGKILL' });
  await d.cancel([cancelled]);
  assert.equal((await pollUntil(d, cancelled, ended)).last?.state, 'CANCELLED');
});

test('ids Slurm never knew are missing from a poll, beside known ones', async (t) => {
  if (!slurmOrSkip(t)) return;
  const d = driver();
  const id = await d.submit(submission(sh('true')));
  await pollUntil(d, id, ended);
  const reports = await d.poll([id, '999999999', '999999998_3']);
  assert.deepEqual([...reports.keys()], [id]);
  assert.deepEqual([...(await d.poll(['999999999'])).keys()], []);
});

test('without Slurm\'s client commands, submitting says where the launcher runs', async () => {
  const saved = process.env.PATH;
  process.env.PATH = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-no-slurm-'));
  try {
    await assert.rejects(driver().submit(submission(sh('true'))),
      { message: "sbatch not found: gowide's Slurm launcher runs on a machine with Slurm's client commands (a cluster's login node)" });
  } finally {
    fs.rmSync(process.env.PATH, { recursive: true, force: true });
    process.env.PATH = saved;
  }
});

test('a poll while slurmctld restarts waits for it instead of taking the jobs for lost', async (t) => {
  if (!slurmOrSkip(t)) return;
  const d = driver();
  const id = await d.submit(submission(sh('sleep 30')));
  await pollUntil(d, id, (r) => r?.state === 'RUNNING');
  // As start-cluster.sh does: as root, or through sudo.
  const asRoot = (script: string) =>
    process.getuid?.() === 0 ? execFileSync('sh', ['-c', script], { stdio: 'pipe' }) : execFileSync('sudo', ['-n', 'sh', '-c', script], { stdio: 'pipe' });
  asRoot('kill "$(cat /run/slurmctld.pid)"');
  while (!/DOWN/.test(spawnSync('scontrol', ['ping'], { encoding: 'utf8' }).stdout)) await sleep(100);
  const polled = d.poll([id]);
  // squeue itself waits about 18 s for a silent controller; the driver must outlast a longer outage.
  await sleep(22_000);
  execFileSync(path.join(__dirname, '..', '..', 'scripts', 'slurm', 'start-cluster.sh'), { stdio: 'pipe' });
  assert.equal((await polled).get(id)?.state, 'RUNNING', 'the job is still known and running after the restart');
  assert.deepEqual((await pollUntil(d, id, ended)).last, { state: 'COMPLETED' });
});
