// A sweep's folder in the runs folder: NAME-sweep-DATE/sweep.json lists the grid's points and the run
// each one got. The points' runs are ordinary run folders beside it, so listRuns and the explorer see
// them as they see any run; the sweep folder has no summary.json, so listRuns passes it by.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from './atomic';
import { readSummary } from './list';
import { runFolderName, runPath } from './names';
import { readSweepRecord, SWEEP_FILE, SWEEP_FORMAT, type SweepRecord } from './sweep-file';
import { explainWriteError, explainingWriteErrors } from './write-errors';

export { SWEEP_FILE, type SweepRecord };

export class SweepStore {
  private constructor(
    readonly sweepId: string,
    readonly dir: string,
    readonly runsDir: string,
    private record: SweepRecord,
  ) {}

  get points(): SweepRecord['points'] {
    return this.record.points;
  }

  get grid(): SweepRecord['grid'] {
    return this.record.grid;
  }

  /** A new sweep folder (never an existing one) listing every point, none started yet. */
  static create(runsDir: string, experimentName: string, experimentPath: string, grid: SweepRecord['grid'], points: Record<string, unknown>[], when = new Date()): SweepStore {
    explainingWriteErrors(runsDir, () => fs.mkdirSync(runsDir, { recursive: true }));
    const base = runFolderName(`${experimentName}-sweep`, when);
    for (let attempt = 0; attempt < 1000; attempt++) {
      const sweepId = attempt === 0 ? base : `${base}-${attempt + 1}`;
      const dir = runPath(runsDir, sweepId);
      try {
        fs.mkdirSync(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw explainWriteError(err, dir);
      }
      const record: SweepRecord = {
        format: SWEEP_FORMAT,
        experimentPath: path.resolve(experimentPath),
        startedAt: when.toISOString(),
        grid,
        points: points.map((values) => ({ values })),
      };
      const store = new SweepStore(sweepId, dir, runsDir, record);
      store.save();
      return store;
    }
    throw new Error(`could not create a sweep folder for "${experimentName}" in ${runsDir}`);
  }

  static open(runsDir: string, sweepId: string): SweepStore {
    const dir = runPath(runsDir, sweepId);
    const record = readSweepRecord(dir);
    if (!record) throw new Error(`sweep ${sweepId} not found in ${runsDir} (no readable ${SWEEP_FILE})`);
    return new SweepStore(sweepId, dir, runsDir, record);
  }

  /** Records the run a point got (written at once: a resumed sweep continues that run). */
  setRun(index: number, runId: string): void {
    this.record.points[index].runId = runId;
    this.save();
  }

  /** Whether the point's run finished (a point without a run, or with a stopped or failed one, did not). */
  isDone(index: number): boolean {
    const runId = this.record.points[index].runId;
    return runId !== undefined && readSummary(runPath(this.runsDir, runId))?.state === 'done';
  }

  private save(): void {
    writeJsonAtomic(path.join(this.dir, SWEEP_FILE), this.record);
  }
}

/** The newest sweep of experimentPath in runsDir with a point that did not finish: what --resume continues. */
export function latestUnfinishedSweep(runsDir: string, experimentPath: string): SweepStore | undefined {
  return sweepsOf(runsDir, experimentPath).find((store) => store.points.some((_, i) => !store.isDone(i)));
}

/** The newest sweep of experimentPath in runsDir, finished or not. */
export function latestSweep(runsDir: string, experimentPath: string): SweepStore | undefined {
  return sweepsOf(runsDir, experimentPath)[0];
}

/** The sweeps of experimentPath in runsDir, newest first. */
function sweepsOf(runsDir: string, experimentPath: string): SweepStore[] {
  if (!fs.existsSync(runsDir)) return [];
  const wanted = path.resolve(experimentPath);
  const sweeps = fs
    .readdirSync(runsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({ sweepId: entry.name, record: readSweepRecord(path.join(runsDir, entry.name)) }))
    .filter((s) => s.record !== undefined && path.resolve(s.record.experimentPath) === wanted)
    .sort((a, b) => (a.record!.startedAt < b.record!.startedAt ? 1 : -1));
  return sweeps.map(({ sweepId }) => SweepStore.open(runsDir, sweepId));
}
