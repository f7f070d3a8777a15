// A run as a graph of jobs. Per seed: the wide net first; then the three-stage thin net (imitate +
// finetune) and every baseline that learns from the wide net (kd, kd-steps), which all need it; the
// other baselines need nothing. Each job is an ordinary one-seed run in <runDir>/jobs/<name>/, so a
// launcher can run independent jobs in separate processes or on separate nodes.
import { isBaseline, needsTeacher } from '../method/stages/baselines';
import type { JobGroup, PhaseName } from '../protocol';

export interface JobSpec {
  /** "<group>-seed<seed>": unique in the run, and the name of its folder under jobs/. */
  name: string;
  group: JobGroup;
  seed: number;
  /** The phases the job runs, in order. */
  phases: PhaseName[];
  /** Names of the jobs that must complete first. */
  needs: string[];
}

export const jobName = (group: JobGroup, seed: number): string => `${group}-seed${seed}`;

/** The phases each group runs, in order. */
function groupsOf(phases: readonly PhaseName[]): { group: JobGroup; phases: PhaseName[] }[] {
  const groups: { group: JobGroup; phases: PhaseName[] }[] = [];
  if (phases.includes('wide')) groups.push({ group: 'wide', phases: ['wide'] });
  const win = phases.filter((p) => p === 'imitate' || p === 'finetune');
  if (win.length > 0) groups.push({ group: 'win', phases: win });
  for (const p of phases) if (isBaseline(p)) groups.push({ group: p, phases: [p] });
  return groups;
}

/** Whether a group trains from the wide net of its seed. */
export function groupNeedsWide(group: JobGroup): boolean {
  return group === 'win' || (group !== 'wide' && needsTeacher(group));
}

/**
 * The jobs of a run that plans `phases` for `seeds`, seed by seed in the order a single process would
 * run them. A job that needs the wide net depends on its seed's wide job when the plan trains one
 * (else the wide net must already be committed in the run, e.g. a continued run).
 */
export function jobGraph(phases: readonly PhaseName[], seeds: readonly number[]): JobSpec[] {
  const jobs: JobSpec[] = [];
  for (const seed of seeds) {
    const groups = groupsOf(phases);
    const hasWide = groups.some((g) => g.group === 'wide');
    for (const { group, phases: own } of groups) {
      const needs = hasWide && groupNeedsWide(group) ? [jobName('wide', seed)] : [];
      jobs.push({ name: jobName(group, seed), group, seed, phases: own, needs });
    }
  }
  return jobs;
}

/** Jobs in an order where every job comes after the jobs it needs (throws on a cycle or an unknown need). */
export function dependencyOrder(jobs: readonly JobSpec[]): JobSpec[] {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: JobSpec[] = [];
  const visit = (job: JobSpec) => {
    if (done.has(job.name)) return;
    if (visiting.has(job.name)) throw new Error(`job ${job.name} depends on itself`);
    visiting.add(job.name);
    for (const need of job.needs) {
      const dep = byName.get(need);
      if (!dep) throw new Error(`job ${job.name} needs ${need}, which is not in the run`);
      visit(dep);
    }
    visiting.delete(job.name);
    done.add(job.name);
    out.push(job);
  };
  for (const job of jobs) visit(job);
  return out;
}
