// The settings each stage ran with. A run folder keeps experiment.json (the configuration when the
// run was created) and stages/<phase>.json (the full configuration a phase started with). When a run
// is continued, the phases started now take the experiment file's current settings (a user may have
// edited fine-tuning settings in the imitation monitor), phases that already ran keep theirs, and the
// net structure and data always come from the run (its checkpoints depend on them).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Experiment } from '../experiment/types';
import type { PhaseName } from '../protocol';
import { writeJsonAtomic } from './atomic';
import { explainingWriteErrors } from './write-errors';

/** The parts of an experiment that a phase reads (besides the structure). */
export const PHASE_SETTINGS: Readonly<Record<PhaseName, readonly (keyof Experiment)[]>> = {
  wide: ['wide', 'minWideAccuracy'],
  imitate: ['imitate'],
  finetune: ['finetune'],
  // Every baseline trains with the wide net's standard schedule (wide), for the thin nets' epoch budget
  // (imitate.epochsPerLayer and finetune.epochs) with finetune's distillation settings; the matched
  // controls count their budgets from win's whole path, which reads the same three.
  scratch: ['wide', 'imitate', 'finetune'],
  kd: ['wide', 'imitate', 'finetune'],
  'scratch-steps': ['wide', 'imitate', 'finetune'],
  'kd-steps': ['wide', 'imitate', 'finetune'],
  'scratch-compute': ['wide', 'imitate', 'finetune'],
};

/** The parts every checkpoint of the run depends on: never taken from an edited file. */
export const STRUCTURE: readonly (keyof Experiment)[] = ['name', 'data', 'model', 'widen', 'seeds'];

export interface StageSnapshot {
  stage: PhaseName;
  startedAt: string;
  experimentPath: string;
  experiment: Experiment;
}

const stagesDir = (runDir: string) => path.join(runDir, 'stages');

export function writeStageSnapshot(runDir: string, snapshot: StageSnapshot): void {
  explainingWriteErrors(stagesDir(runDir), () => fs.mkdirSync(stagesDir(runDir), { recursive: true }));
  writeJsonAtomic(path.join(stagesDir(runDir), `${snapshot.stage}.json`), snapshot);
}

export function readStageSnapshot(runDir: string, stage: PhaseName): StageSnapshot | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(stagesDir(runDir), `${stage}.json`), 'utf8')) as StageSnapshot;
  } catch {
    return undefined;
  }
}

/** The configuration recorded when the run was created. */
export function readRunExperiment(runDir: string): Experiment | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(runDir, 'experiment.json'), 'utf8')) as { experiment: Experiment }).experiment;
  } catch {
    return undefined;
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The configuration a continued run trains with.
 * @param fresh phases that start from their beginning now: they take `current`'s settings.
 * @param ran phases that ran (or began) before: they keep their snapshot (stages/<phase>.json, or the
 *   run's experiment.json where none was written).
 */
export function continuedExperiment(
  runDir: string,
  current: Experiment,
  fresh: readonly PhaseName[],
  ran: readonly PhaseName[],
): { experiment: Experiment; notes: string[] } {
  const base = readRunExperiment(runDir) ?? current;
  const merged: Record<string, unknown> = { ...current };
  const notes: string[] = [];
  for (const key of STRUCTURE) {
    if (!same(current[key], base[key]) && key !== 'seeds' && key !== 'name') {
      notes.push(`${key} changed in the experiment file since the run began; the run keeps its own ${key} (start a new run to use the new one)`);
    }
    merged[key] = base[key];
  }
  const kept = new Set<string>();
  for (const phase of ran) {
    if (fresh.includes(phase)) continue;
    const snapshot = readStageSnapshot(runDir, phase)?.experiment ?? base;
    for (const key of PHASE_SETTINGS[phase]) {
      if (fresh.some((f) => PHASE_SETTINGS[f].includes(key))) continue; // a phase started now owns it
      merged[key] = snapshot[key];
      kept.add(key);
    }
  }
  for (const key of kept) {
    if (!same(current[key as keyof Experiment], merged[key])) notes.push(`${key}: using the settings that stage already ran with, not the edited ones`);
  }
  return { experiment: merged as unknown as Experiment, notes };
}
