// The loop the long evidence scripts share (evidence:outside, evidence:full-data, evidence:variants):
// write each derived experiment file into the runs folder, run it with `gowide run FILE --json` from a
// copy of dist/, and keep its report in the script's results file after each run, so an interrupted
// script keeps what finished. A failed run is reported and the others go on.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonReport } from '../../server/cli/report';
import type { Experiment } from '../../server/experiment/types';
import { EVIDENCE_DIR, ROOT } from './evidence-doc';
import { experimentText } from './example-file';
import { ranExperiment, ranOn, runJsonReport, snapshotBuild } from './run-study';

/** A results file's contents, undefined when there is none; throws, saying what to do, when it is
 *  not JSON (before anything runs, so nothing kept is overwritten). */
export function readKept<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${err instanceof Error ? err.message : err}): fix or remove it; nothing was run`);
  }
}

/** What every kept run records besides its own keys. */
export interface RanFields {
  finishedAt: string;
  /** From starting the CLI to its report. */
  seconds: number;
  report: JsonReport;
  ranOn: ReturnType<typeof ranOn>;
  /** The file as it resolved when it ran, every default filled in (ranExperiment). */
  experiment: Experiment;
}

/** What a finished run of the CLI snapshot `cli` records, at the moment it finished. */
export function ranFields(cli: string, report: JsonReport, seconds: number): RanFields {
  return { finishedAt: new Date().toISOString(), seconds, report, ranOn: ranOn(cli), experiment: ranExperiment(report) };
}

/** One setting's run as a results file keeps it. Runs kept before the experiment was recorded have
 *  none; their readers re-resolve the file, with today's defaults. */
export interface KeptRun extends Omit<RanFields, 'experiment'> {
  id: string;
  /** The experiment file as it ran. */
  file: Record<string, unknown>;
  seeds: number[];
  experiment?: Experiment;
}

export interface RunToKeep {
  /** How the log names it ("mlp-30x16", "groups-2 on mlp-30x16"). */
  label: string;
  /** The experiment file's name in the runs folder, without .gowide.json. */
  name: string;
  experiment: Record<string, unknown>;
  /** Puts the finished run into the results object (which is then written whole). */
  keep(ran: RanFields, file: string): void | Promise<void>;
}

/** Runs each in turn and writes `results` to `resultsFile` after each; returns the labels that failed. */
export async function runEachAndKeep(o: { runs: RunToKeep[]; runsDir: string; jobs?: number; results: unknown; resultsFile: string }): Promise<string[]> {
  const cli = snapshotBuild(ROOT);
  mkdirSync(o.runsDir, { recursive: true });
  mkdirSync(EVIDENCE_DIR, { recursive: true });
  const extraArgs = o.jobs === undefined ? [] : ['--jobs', String(o.jobs)];
  const failed: string[] = [];
  for (const run of o.runs) {
    const file = join(o.runsDir, `${run.name}.gowide.json`);
    writeFileSync(file, experimentText(run.experiment));
    console.log(`[${new Date().toISOString().slice(11, 19)}] ${run.label}: ${file}`);
    try {
      const { report, seconds } = await runJsonReport({ cli, file, cwd: ROOT, runsDir: o.runsDir, extraArgs, log: () => undefined });
      await run.keep(ranFields(cli, report, seconds), file);
      writeFileSync(o.resultsFile, `${JSON.stringify(o.results, null, 1)}\n`);
      const p = report.paired?.['win-scratch'];
      console.log(`  done in ${(seconds / 60).toFixed(1)} min${p ? `: win - scratch ${(p.mean * 100).toFixed(2)} points, ${p.ahead} of ${p.seeds} seeds ahead` : ''}`);
    } catch (err) {
      failed.push(run.label);
      console.error(`  ${run.label} failed: ${err instanceof Error ? err.message : err}`);
    }
  }
  return failed;
}

/** After the document is rewritten: an error naming the runs that failed, if any did. */
export function throwIfFailed(failed: string[]): void {
  if (failed.length > 0) throw new Error(`${failed.length} run(s) failed and have no new result: ${failed.join(', ')}`);
}
