// A sweep folder's sweep.json: its format and how it is read back. Written by sweep-store.ts; read
// there and by listRuns (which tells each run the sweep it is a point of).
import * as fs from 'node:fs';
import * as path from 'node:path';

export const SWEEP_FILE = 'sweep.json';
export const SWEEP_FORMAT = 'gowide-sweep-1';

export interface SweepRecord {
  format: typeof SWEEP_FORMAT;
  experimentPath: string;
  startedAt: string;
  grid: Record<string, unknown[]>;
  /** One entry per grid point, in grid order; runId once the point's run folder exists. */
  points: { values: Record<string, unknown>; runId?: string }[];
}

/** The sweep.json in dir; undefined where there is none, or it is unreadable or of another format. */
export function readSweepRecord(dir: string): SweepRecord | undefined {
  try {
    const record = JSON.parse(fs.readFileSync(path.join(dir, SWEEP_FILE), 'utf8')) as SweepRecord;
    return record.format === SWEEP_FORMAT ? record : undefined;
  } catch {
    return undefined;
  }
}
