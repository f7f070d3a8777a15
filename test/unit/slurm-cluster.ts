// The one-node Slurm cluster for tests (scripts/slurm/start-cluster.sh starts it). Tests of the Slurm
// launcher run where a cluster answers and skip elsewhere with the reason, except under
// GOWIDE_REQUIRE_SLURM=1 (CI, where .ci/run starts the cluster): there a silent cluster fails.
import type { TestContext } from 'node:test';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobDriver, JobReport } from '../../server/launch/driver';

export const requireSlurm = process.env.GOWIDE_REQUIRE_SLURM === '1';

const START_HINT = 'start one with scripts/slurm/start-cluster.sh (apt-get install slurm-wlm munge)';

/** Why no cluster takes jobs here (sinfo missing, slurmctld silent, no node up); undefined when one does. */
export function slurmClusterProblem(): string | undefined {
  const r = spawnSync('sinfo', ['--noheader', '--responding', '--format=%T'], { encoding: 'utf8', timeout: 15_000 });
  if (r.error) return `sinfo could not run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}): no Slurm client here; ${START_HINT}`;
  if (r.status !== 0) return `no Slurm cluster answers (sinfo: ${r.stderr.trim().split('\n').pop()}): ${START_HINT}`;
  const states = r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  if (!states.some((s) => /^(idle|mixed|allocated|completing)/.test(s))) {
    return `the Slurm cluster has no node taking jobs (sinfo says: ${states.join(', ') || 'no nodes'}): ${START_HINT}`;
  }
  return undefined;
}

/**
 * For a test that needs a Slurm cluster: true when one takes jobs. Otherwise skips the test with the
 * reason, or throws under GOWIDE_REQUIRE_SLURM=1.
 */
export function slurmOrSkip(t: TestContext): boolean {
  const why = slurmClusterProblem();
  if (!why) return true;
  if (requireSlurm) throw new Error(why);
  t.skip(why);
  return false;
}

/** Polls `driver` every `everyMs` until `until` holds for the report of `id`; the reports seen on the way. */
export async function pollUntil(
  driver: JobDriver, id: string, until: (r: JobReport | undefined) => boolean, timeoutMs = 120_000, everyMs = 250,
): Promise<{ last: JobReport | undefined; seen: JobReport[] }> {
  const seen: JobReport[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = (await driver.poll([id])).get(id);
    if (last && (seen.length === 0 || seen.at(-1)!.state !== last.state || seen.at(-1)!.reason !== last.reason)) seen.push(last);
    if (until(last)) return { last, seen };
    if (Date.now() > deadline) throw new Error(`job ${id} did not get there in ${timeoutMs} ms; seen: ${JSON.stringify(seen)}`);
    await sleep(everyMs);
  }
}
