// The generated headline-pair part of docs/EVIDENCE.md, from the kept docs/evidence/headline.json: the
// thin net with the three stages, the thin net from scratch, the deep net from scratch and the wide
// net, each with its parameters, FLOPs per example, epochs and test accuracy, and the paired
// difference thin three-stage minus deep scratch, seed by seed.
import type { JsonArm, JsonReport } from '../../server/cli/report';
import { thinEpochBudget } from '../../server/experiment/budget';
import type { Experiment } from '../../server/experiment/types';
import { baselineEpochs } from '../../server/method/stages/baselines';
import type { ArmName } from '../../server/protocol';
import { pairedDifference } from '../../server/runs/paired';
import { checkedExperiment, experimentText } from './example-file';
import { HEADLINE_PAIR, HEADLINE_RUN_IDS, type HeadlineFile, type HeadlineRunId } from './headline-settings';
import { netName } from './outside-report';
import { pct, pct1 } from './report';
import type { ranOn } from './run-study';

/** One run of the pair as kept in docs/evidence/headline.json. */
export interface HeadlineRun {
  /** The experiment file as it ran. */
  file: Record<string, unknown>;
  /** The file resolved with the defaults of the day it ran (ranExperiment). */
  experiment?: Experiment;
  /** `gowide run FILE` arguments after the file (stage, launcher), as given. */
  args: string[];
  seeds: number[];
  finishedAt: string;
  /** From starting the CLI to its report. */
  seconds: number;
  report: JsonReport;
  ranOn: ReturnType<typeof ranOn>;
}

export interface HeadlineResults {
  example: string;
  depthMultiplier: number;
  runs: Partial<Record<HeadlineRunId, HeadlineRun>>;
}

/** A row of the table: which run and arm it reads, and what it is. */
const ROWS: { run: HeadlineRunId; arm: ArmName; training: string; compared?: boolean; epochs: (e: Experiment) => string }[] = [
  { run: 'thin', arm: 'win', training: 'three stages (wide, layerwise imitation, fine-tune)', compared: true, epochs: (e) => `${thinEpochBudget(e.model.depth, e.imitate, e.finetune)} (${e.model.depth} x ${e.imitate.epochsPerLayer} imitation + ${e.finetune.epochs} fine-tune)` },
  { run: 'thin', arm: 'scratch', training: 'from scratch', epochs: (e) => `${baselineEpochs({ experiment: e })}` },
  { run: 'deep', arm: 'scratch', training: 'from scratch', compared: true, epochs: (e) => `${baselineEpochs({ experiment: e })}` },
  { run: 'thin', arm: 'wide', training: 'the wide net (teacher, for reference)', epochs: (e) => `${e.wide.epochs}` },
];

const count = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : n.toLocaleString('en-US'));
const signed = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}`;
const minutes = (seconds: number) => `${(seconds / 60).toFixed(1)} min`;

/** What the kept run resolved when it ran; runs kept before that was recorded re-resolve their file. */
function experimentOf(id: HeadlineRunId, run: HeadlineRun): Experiment {
  return run.experiment ?? checkedExperiment(experimentText(run.file), `headline-${id}.gowide.json`, `the kept ${id} run's experiment`);
}

function netCell(arm: ArmName, e: Experiment): string {
  if (arm !== 'wide') return netName(e.model);
  return `${netName(e.model)} widened ${e.widen.factor}x (${e.widen.mode === 'inside' ? 'inside each block' : 'whole layers'})`;
}

/** Mean ± std (in bold for the two nets compared) and the seeds' accuracies. */
function accuracyCells(a: JsonArm | undefined, bold: boolean): string[] {
  if (!a) return ['-', '-'];
  const mean = `${pct(a.accuracy.mean)} ± ${pct(a.accuracy.std)}`;
  return [bold ? `**${mean}**` : mean, a.accuracy.perSeed.map(pct1).join(', ')];
}

/** The kept run was derived as the pair derives it now (its file is the same but for the description). */
function current(run: HeadlineRun, now: HeadlineFile | undefined): boolean {
  if (now === undefined) return true;
  const keys = new Set([...Object.keys(run.file), ...Object.keys(now.file)]);
  return [...keys].every((key) => key === 'description' || JSON.stringify(run.file[key]) === JSON.stringify(now.file[key]));
}

/** Thin three-stage minus deep scratch, seed by seed; undefined (with why) unless both ran on the same seeds. */
export function headlineDifferences(results: HeadlineResults): { seeds: number[]; differences: number[] } | string {
  const { thin, deep } = results.runs;
  const win = thin?.report.arms.win;
  const scratch = deep?.report.arms.scratch;
  if (!thin || !deep || !win || !scratch) return 'needs both runs';
  if (thin.seeds.join(',') !== deep.seeds.join(',')) return `the runs have other seeds (thin ${thin.seeds.join(', ')}; deep ${deep.seeds.join(', ')}): re-run both`;
  if (win.accuracy.perSeed.length !== thin.seeds.length || scratch.accuracy.perSeed.length !== deep.seeds.length) return 'an arm is missing seeds: re-run both';
  return { seeds: thin.seeds, differences: win.accuracy.perSeed.map((w, i) => w - scratch.accuracy.perSeed[i]) };
}

/**
 * The table and the paired difference. `now`: the files the pair derives today (a kept run whose file
 * differs is marked for re-running).
 */
export function headlineSection(results: HeadlineResults, now?: Partial<Record<HeadlineRunId, HeadlineFile>>): string {
  const rows = [
    '| net | trained | params | FLOPs per example | epochs | test accuracy (%) | per seed | seconds per seed |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const row of ROWS) {
    const run = results.runs[row.run];
    if (!run) {
      rows.push(`| the ${row.run} net | ${row.training} | not run yet | | | | | |`);
      continue;
    }
    const e = experimentOf(row.run, run);
    const a = run.report.arms[row.arm];
    rows.push(`| ${netCell(row.arm, e)} | ${row.training} | ${count(a?.params)} | ${count(a?.flops)} | ${row.epochs(e)} | ${accuracyCells(a, row.compared === true).join(' | ')} | ${a ? a.seconds.toFixed(0) : '-'} |`);
  }
  const lines = [rows.join('\n')];
  const d = headlineDifferences(results);
  if (typeof d === 'string') lines.push(`Thin three-stage minus deep scratch: ${d}.`);
  else {
    const p = pairedDifference(d.differences);
    const interval = p.low === undefined || p.high === undefined ? '- (one seed)' : `${signed(p.low)} to ${signed(p.high)}`;
    lines.push(
      [
        '| paired by seed (points) | mean | 95% interval | seeds ahead | per seed |',
        '|---|---|---|---|---|',
        `| thin three-stage - deep scratch | **${signed(p.mean)}** | ${interval} | ${p.ahead} of ${p.seeds} | ${d.differences.map((x, i) => `${d.seeds[i]}: ${signed(x)}`).join(', ')} |`,
      ].join('\n'),
    );
  }
  const ran = HEADLINE_RUN_IDS.flatMap((id) => (results.runs[id] ? [[id, results.runs[id]!] as const] : []));
  if (ran.length > 0) {
    const how = ran.map(([id, r]) => `the ${id} run \`gowide run headline-${id}.gowide.json ${r.args.join(' ')}\` took ${minutes(r.seconds)} (${r.finishedAt.slice(0, 16).replace('T', ' ')} UTC, ${r.ranOn.cpuModel}, ${r.ranOn.nproc} cores, commit ${r.ranOn.commit})`);
    lines.push(
      `Derived from \`${results.example}\` (the deep net: ${results.depthMultiplier}x its depth, the same width). ` +
        'Test accuracy in %, mean ± std over the seeds; a seed fixes the data split, so the two runs pair seed by seed. ' +
        'FLOPs: multiply-accumulates per example of one forward pass through the net. ' +
        `Seconds per seed: the arm's own training. Wall time: ${how.join('; ')}.`,
    );
  }
  const stale = ran.filter(([id, r]) => !current(r, now?.[id])).map(([id]) => id);
  if (stale.length > 0) lines.push(`**Stale**: the kept ${stale.join(' and ')} run(s) used other settings than the pair derives now from \`${HEADLINE_PAIR.study.file}\`: re-run \`npm run evidence:headline\`.`);
  return lines.join('\n\n');
}
