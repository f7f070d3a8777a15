// Evidence sweeps: a committed study example run over a grid of one of its fields, e.g. the MLP over
// widen.factor 2, 4, 8 ("which factor pays?", issue 16) or a CNN over its fine-tune epochs ("does the
// gain survive a budget long enough for scratch to converge?", issue 17). The sweep file is the
// example plus its "sweep" key and the study's overrides, written into the runs folder (so the
// repository holds the settings once), and runs with `gowide run FILE --json` as one process, on the
// local launcher or on Slurm; each launcher's result is kept apart so their wall times can be compared.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunArgs } from '../../server/cli/run-command';
import { valueText, type SweepJsonReport } from '../../server/cli/sweep-report';
import { ARM_NAMES, type ArmName, type LaunchOptions, type LauncherName } from '../../server/protocol';
import { loadAverage } from '../bench/record';
import { checkedExperiment, exampleForElsewhere, experimentText } from './example-file';
import { ranOn, runCli } from './run-study';
import { STUDY_SEEDS, studiesById } from './studies';

export interface SweepStudy {
  id: string;
  title: string;
  /** The question the sweep answers (the first line of its section in docs/EVIDENCE.md). */
  question: string;
  /** The experiment file swept, relative to the repository root. */
  example: string;
  /** The swept field and its values. */
  field: string;
  values: number[];
  /** Top-level settings written over the example's (e.g. the arms and seeds). */
  overrides?: Record<string, unknown>;
  /** How a value is labelled under the chart: "x" a factor (×4), "epochs" (14 epochs). */
  unit: 'x' | 'epochs';
}

const exampleOf = (id: string) => studiesById([id])[0].file;
/** The arms a budget sweep needs: scratch, and scratch on win's optimisation steps (the control that
 *  explained the plain CNN's gain at the study's budget). */
const BUDGET_OVERRIDES = { baselines: ['scratch', 'scratch-steps'], seeds: STUDY_SEEDS };

export const SWEEP_STUDIES: SweepStudy[] = [
  {
    id: 'mlp-factors',
    title: 'Deep thin MLP: which widening factor pays',
    question: 'Which widening factor pays?',
    example: exampleOf('mlp'),
    field: 'widen.factor',
    values: [2, 4, 8],
    unit: 'x',
  },
  {
    id: 'cnn-budget',
    title: 'Plain CNN: the gain against the fine-tune budget',
    question: 'Does the plain CNN\'s gain survive a budget long enough for scratch to converge?',
    example: exampleOf('cnn'),
    field: 'finetune.epochs',
    values: [7, 14, 28],
    overrides: BUDGET_OVERRIDES,
    unit: 'epochs',
  },
  {
    id: 'resnet-budget',
    title: 'Residual CNN: the gain against the fine-tune budget',
    question: 'Does the residual CNN\'s gain survive a budget long enough for scratch to converge?',
    example: exampleOf('resnet'),
    field: 'finetune.epochs',
    values: [6, 12, 24],
    overrides: BUDGET_OVERRIDES,
    unit: 'epochs',
  },
];

export const FACTOR_STUDY = SWEEP_STUDIES[0];

export function sweepStudyById(id: string): SweepStudy {
  const study = SWEEP_STUDIES.find((s) => s.id === id);
  if (!study) throw new Error(`--study: unknown sweep study ${id}; use ${SWEEP_STUDIES.map((s) => s.id).join(', ')}`);
  return study;
}

/** A swept value as the chart labels it. */
export const valueLabel = (study: Pick<SweepStudy, 'unit'>, value: unknown): string => (study.unit === 'x' ? `×${valueText(value)}` : `${valueText(value)} epochs`);

/** The launcher a result ran on; "one-process" is `gowide run` without one (every job in turn). */
export type LauncherLabel = LauncherName | 'one-process';

export interface SweepResult {
  study: SweepStudy;
  launcher: LauncherLabel;
  /** The launch options the CLI resolved from launchArgs (absent for one process). */
  launch?: LaunchOptions;
  /** The launcher flags passed to `gowide run`, as given. */
  launchArgs: string[];
  seeds: number[];
  finishedAt: string;
  /** From starting the CLI to its last line: what the launchers are compared on. */
  wallSeconds: number;
  /** The 1-minute load average when the sweep started and ended (the 2 cores are often shared, and
   *  then wall times say as much about the neighbours as about the launcher). */
  load: { start: number | null; end: number | null };
  /** The CLI's --json line. */
  sweep: SweepJsonReport;
  ranOn: ReturnType<typeof ranOn>;
}

type SweepPoint = SweepJsonReport['sweep'][number];

/** The arms the sweep has, in the protocol's order. */
export const sweepArms = (sweep: SweepJsonReport): ArmName[] => ARM_NAMES.filter((arm) => sweep.sweep.some((p) => p.arms[arm]));

/** What a sweep point costs: its wide net's size and FLOPs per example, and seconds per seed (wide
 *  net; win's imitation + fine-tune; every arm together). */
export function pointCost(point: SweepPoint): { wideParams: number; wideFlops: number; wideSeconds: number; winSeconds: number; allSeconds: number } {
  const arms = Object.values(point.arms);
  return {
    wideParams: point.arms.wide?.params ?? NaN,
    wideFlops: point.arms.wide?.flops ?? NaN,
    wideSeconds: point.arms.wide?.seconds ?? NaN,
    winSeconds: point.arms.win?.seconds ?? NaN,
    allSeconds: arms.reduce((sum, a) => sum + a.seconds, 0),
  };
}

/**
 * The sweep file's text (the example's settings with the study's overrides and `"sweep": {field:
 * values}` added) and the seeds it runs. Data paths relative to the example's folder are made absolute,
 * since the file lives elsewhere. Throws, with the experiment checker's problems, when the result would
 * not run.
 */
export function sweepFileText(exampleText: string, examplePath: string, sweepPath: string, sweep: Pick<SweepStudy, 'field' | 'values' | 'overrides'>): { text: string; seeds: number[] } {
  const example = JSON.parse(exampleText) as Record<string, unknown>;
  if ('sweep' in example) throw new Error(`${examplePath} already names a sweep: give the study an example without one`);
  const text = experimentText({ ...exampleForElsewhere(example, examplePath), ...sweep.overrides, sweep: { [sweep.field]: sweep.values } });
  const experiment = checkedExperiment(text, sweepPath, `the sweep of ${examplePath} over ${sweep.field} ${JSON.stringify(sweep.values)}`);
  return { text, seeds: experiment.seeds };
}

/** `gowide run` arguments for the sweep, checked with the CLI's own parser (so a wrong launcher
 *  option is refused, in its words, before anything is built). */
export function sweepRunArgs(o: { sweepPath: string; runsDir: string; seeds?: number[]; launchArgs: string[] }): { argv: string[]; launch?: LaunchOptions } {
  const argv = [o.sweepPath, '--json', '--quiet', '--runs-dir', o.runsDir, ...(o.seeds ? ['--seeds', o.seeds.join(',')] : []), ...o.launchArgs];
  const parsed = parseRunArgs(argv);
  return { argv: ['run', ...argv], ...(parsed.launch ? { launch: parsed.launch } : {}) };
}

export const launcherLabel = (launch: LaunchOptions | undefined): LauncherLabel => launch?.launcher ?? 'one-process';

/** Writes the study's sweep file into runsDir and runs it with the CLI (`cli` gives its path once the
 *  arguments are checked, for the launch they ask); resolves with the result to keep. */
export async function runSweepStudy(o: { study: SweepStudy; root: string; cli: (launch: LaunchOptions | undefined) => string; runsDir: string; seeds?: number[]; launchArgs: string[]; log: (line: string) => void }): Promise<SweepResult> {
  const { study } = o;
  const sweepPath = join(o.runsDir, `${study.id}.gowide.json`);
  const examplePath = join(o.root, study.example);
  const { text, seeds: fileSeeds } = sweepFileText(readFileSync(examplePath, 'utf8'), examplePath, sweepPath, study);
  const { argv, launch } = sweepRunArgs({ sweepPath, runsDir: o.runsDir, seeds: o.seeds, launchArgs: o.launchArgs });
  const cli = o.cli(launch);
  mkdirSync(o.runsDir, { recursive: true });
  writeFileSync(sweepPath, text);
  const started = performance.now();
  const loadAtStart = loadAverage();
  const stdout = await runCli(cli, argv, o.root, o.log);
  const wallSeconds = (performance.now() - started) / 1000;
  const load = { start: loadAtStart, end: loadAverage() };
  const sweep = JSON.parse(stdout.trim().split('\n').pop() ?? '') as SweepJsonReport;
  const unfinished = sweep.sweep.filter((p) => p.state !== 'done');
  if (unfinished.length > 0) throw new Error(`the sweep did not finish: ${unfinished.map((p) => `${JSON.stringify(p.values)} ${p.state}${p.error ? `: ${p.error}` : ''}`).join('; ')}`);
  const seeds = o.seeds ?? fileSeeds;
  return { study, launcher: launcherLabel(launch), ...(launch ? { launch } : {}), launchArgs: o.launchArgs, seeds, finishedAt: new Date().toISOString(), wallSeconds, load, sweep, ranOn: ranOn(cli) };
}
