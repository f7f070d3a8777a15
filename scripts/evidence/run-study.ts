// Runs one study's experiment with the built CLI (`gowide run FILE --json`) and gathers what the
// report needs: the arms' test accuracies and seconds, the diagnostics, and the accuracy curves.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { JsonReport } from '../../server/cli/report';
import type { Experiment } from '../../server/experiment/types';
import { getMetrics } from '../../server/runs/list';
import { budgetBands, budgetCurves, type ArmCurves } from '../../webview/lib/budget-curves';
import { machine, type Machine } from '../bench/record';
import { studyExperiment, type Study } from './studies';

function headCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** The file beside a snapshot's dist/ that names the commit it was copied at. */
const SNAPSHOT_COMMIT = 'commit';

/** Where and from which commit a result is measured (see StudyResult.ranOn): the commit the CLI
 *  snapshot `cli` was copied at (snapshotBuild), not HEAD when the run ends, hours later. */
export function ranOn(cli: string): ReturnType<typeof machine> & { commit: string } {
  const recorded = join(dirname(dirname(cli)), SNAPSHOT_COMMIT);
  return { ...machine(), commit: existsSync(recorded) ? readFileSync(recorded, 'utf8').trim() : headCommit() };
}

/** "Intel(R) Xeon(R) Processor (2 cores, OpenBLAS Prescott kernels) at 1a2b3c4": where a kept run ran. */
export function ranOnText(r: Pick<Machine, 'cpuModel' | 'nproc' | 'blasCore'> & { commit: string }): string {
  return `${r.cpuModel} (${r.nproc} cores${r.blasCore ? `, OpenBLAS ${r.blasCore} kernels` : ''}) at ${r.commit}`;
}

export interface StudyResult {
  study: Study;
  finishedAt: string;
  wallSeconds: number;
  seeds: number[];
  /** depth x epochsPerLayer + fine-tune epochs: the thin arms' common budget. */
  budgetEpochs: number;
  imitationEpochs: number;
  report: JsonReport;
  curves: ArmCurves;
  /** The resolved configuration the run used (defaults filled in). */
  experiment: Experiment;
  /** Where and from which commit it ran: the same code gives other per-seed accuracies on another
   *  CPU (OpenBLAS picks its kernels, and so its summation order, by CPU), so a re-run is only
   *  comparable seed by seed on the same kind of machine. */
  ranOn?: ReturnType<typeof ranOn>;
}

/** A copy of dist/ for the whole study: a rebuild during a run of hours must not swap the native
 *  addon under the running process. package.json goes beside it: the CLI finds its own root by it
 *  (a launched run starts its jobs with that root's dist/cli.js). `under`: the folder to copy into
 *  (default the temp folder; Slurm jobs on other nodes need one on the shared file system). */
export function snapshotBuild(root: string, under = tmpdir()): string {
  const dist = join(root, 'dist');
  if (!existsSync(join(dist, 'cli.js'))) throw new Error('dist/cli.js is missing: run npm run build first');
  mkdirSync(under, { recursive: true });
  const copy = mkdtempSync(join(under, 'gowide-evidence-'));
  cpSync(dist, join(copy, 'dist'), { recursive: true });
  cpSync(join(root, 'package.json'), join(copy, 'package.json'));
  writeFileSync(join(copy, SNAPSHOT_COMMIT), `${headCommit()}\n`);
  return join(copy, 'dist', 'cli.js');
}

/** Runs the CLI to its end and resolves with its stdout; its stderr goes to log line by line. */
export function runCli(cli: string, args: string[], cwd: string, log: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderrTail = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      const text = c.toString();
      stderrTail = (stderrTail + text).slice(-4000);
      for (const line of text.split(/[\r\n]+/)) if (line.trim()) log(line.trim());
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`gowide ${args.join(' ')} exited with ${code}:\n${stderrTail.split('\n').slice(-8).join('\n')}`));
    });
  });
}

/** The mean over seeds of each arm's accuracy against budget (the seeds' spread is in the report's table). */
function meanCurves(records: ReturnType<typeof getMetrics>): ArmCurves {
  const bands = budgetBands([...budgetCurves(records).values()]);
  return Object.fromEntries(Object.entries(bands).map(([arm, points]) => [arm, points.map((p) => ({ epochs: p.epochs, accuracy: p.mean }))]));
}

/** `gowide run FILE --json` (extraArgs after the others) to its end: its report, which must say the
 *  run is done, and the seconds from starting the CLI to its report. */
export async function runJsonReport(o: { cli: string; file: string; cwd: string; runsDir: string; seeds?: number[]; extraArgs?: string[]; log: (line: string) => void }): Promise<{ report: JsonReport; seconds: number }> {
  const args = ['run', o.file, '--json', '--quiet', '--runs-dir', o.runsDir, ...(o.seeds ? ['--seeds', o.seeds.join(',')] : []), ...(o.extraArgs ?? [])];
  const started = performance.now();
  const stdout = await runCli(o.cli, args, o.cwd, o.log);
  const seconds = (performance.now() - started) / 1000;
  const report = JSON.parse(stdout.trim().split('\n').pop() ?? '') as JsonReport;
  if (report.state !== 'done') throw new Error(`${o.file}: the run ended ${report.state}${report.error ? `: ${report.error}` : ''}`);
  return { report, seconds };
}

/** The experiment a finished run resolved, every default filled in as it was when it ran (a kept
 *  file re-resolved later would take the defaults of that later day). */
export function ranExperiment(report: Pick<JsonReport, 'runDir'>): Experiment {
  return (JSON.parse(readFileSync(join(report.runDir, 'experiment.json'), 'utf8')) as { experiment: Experiment }).experiment;
}

/** Runs a study: its example with the study's arms and seeds (studyExperiment), written into the runs
 *  folder; extraArgs go to the CLI (e.g. --jobs 2). */
export async function runStudy(o: { root: string; cli: string; study: Study; runsDir: string; seeds?: number[]; extraArgs?: string[]; log: (line: string) => void }): Promise<StudyResult> {
  const example = JSON.parse(readFileSync(join(o.root, o.study.file), 'utf8')) as Record<string, unknown>;
  const file = join(o.runsDir, `study-${o.study.id}.gowide.json`);
  mkdirSync(o.runsDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(studyExperiment(example, o.seeds), null, 2)}\n`);
  const { report, seconds } = await runJsonReport({ cli: o.cli, file, cwd: o.root, runsDir: o.runsDir, extraArgs: o.extraArgs, log: o.log });
  const resolved = ranExperiment(report);
  const imitationEpochs = resolved.model.depth * resolved.imitate.epochsPerLayer;
  return {
    study: o.study,
    finishedAt: new Date().toISOString(),
    wallSeconds: seconds,
    seeds: resolved.seeds,
    budgetEpochs: imitationEpochs + resolved.finetune.epochs,
    imitationEpochs,
    report,
    curves: meanCurves(getMetrics(o.runsDir, basename(report.runDir))),
    experiment: resolved,
    ranOn: ranOn(o.cli),
  };
}
