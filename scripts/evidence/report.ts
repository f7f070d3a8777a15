// The generated part of docs/EVIDENCE.md: per study, the settings, the four arms (mean ± std over
// seeds, per seed, cost in seconds and epochs), the diagnostics and the verdict against the goal
// (win >= scratch + 1 point and win >= kd).
import { blockTitle } from '../../server/block-title';
import { ARM_LABEL, type JsonReport } from '../../server/cli/report';
import { groupingPhrase } from '../../server/method/stages/imitation-groups';
import { ARM_NAMES, BASELINE_NAMES, type ArmName } from '../../server/protocol';
import { meanAndStd } from '../../server/runs/summary';
import type { StudyResult } from './run-study';
import type { Experiment } from '../../server/experiment/types';
import { thinEpochBudget } from '../../server/experiment/budget';

/** "Block 2:" or "Blocks 1-3:" (groups imitated together) from a diagnostics entry. */
const title = (b: { block: number; firstBlock?: number }) => `${blockTitle({ index: b.block, from: b.firstBlock })}:`;

/** Every arm the study ran, in the protocol's order; win in bold. */
export const armLabel = (arm: ArmName) => (arm === 'win' ? `**${ARM_LABEL.win}**` : ARM_LABEL[arm]);

export const pct = (x: number) => (x * 100).toFixed(2);
export const pct1 = (x: number) => (x * 100).toFixed(1);
/** The mean over the seeds of the warm start (validation accuracy right after imitation), "-" without one. */
export const warmStartCell = (warm: number[] | undefined) => (warm && warm.length > 0 ? pct1(meanAndStd(warm).mean) : '-');
interface WinRun {
  seeds: number[];
  report: Pick<JsonReport, 'arms'>;
}
/** Win of one run minus win of another, seed by seed over the seeds both ran (a seed fixes split,
 *  initialisation and batch order, so two runs of the same setting pair). */
export function winChangeBySeed(now: WinRun, then: WinRun): { seeds: number[]; differences: number[] } {
  const winOf = (r: WinRun, seed: number) => (r.seeds.includes(seed) ? r.report.arms.win?.accuracy.perSeed[r.seeds.indexOf(seed)] : undefined);
  const pairs = now.seeds.flatMap((seed) => {
    const [a, b] = [winOf(now, seed), winOf(then, seed)];
    return a === undefined || b === undefined ? [] : [{ seed, difference: a - b }];
  });
  return { seeds: pairs.map((p) => p.seed), differences: pairs.map((p) => p.difference) };
}
/** "79.19 ± 1.12" for an arm's test accuracy over the seeds, "-" for an arm that did not run. */
export const accuracyCell = (a: { accuracy: { mean: number; std: number } } | undefined) => (a ? `${pct(a.accuracy.mean)} ± ${pct(a.accuracy.std)}` : '-');

export interface Verdict {
  winMinusScratch: number;
  winMinusKd: number;
  /** The paired 95% interval of win - scratch lies above 0 (undefined: fewer than 2 seeds, or not recorded). */
  intervalAboveZero?: boolean;
  /** Win ahead of scratch at win's steps (undefined: that control did not run). */
  aheadOfStepsMatched?: boolean;
  met: boolean;
}

/** The goal (issue 17): win >= scratch + 1 point with the paired 95% interval above 0, win >= kd, and
 *  win ahead of the steps-matched scratch where that control ran. */
export function verdict(r: StudyResult): Verdict | undefined {
  const { win, scratch, kd } = r.report.arms;
  if (!win || !scratch || !kd) return undefined;
  const winMinusScratch = (win.accuracy.mean - scratch.accuracy.mean) * 100;
  const winMinusKd = (win.accuracy.mean - kd.accuracy.mean) * 100;
  const low = r.report.paired?.['win-scratch']?.low;
  const intervalAboveZero = low === undefined ? undefined : low > 0;
  const steps = r.report.arms['scratch-steps'];
  const aheadOfStepsMatched = steps ? win.accuracy.mean > steps.accuracy.mean : undefined;
  const met = winMinusScratch >= 1 && winMinusKd >= 0 && intervalAboveZero !== false && aheadOfStepsMatched !== false;
  return { winMinusScratch, winMinusKd, intervalAboveZero, aheadOfStepsMatched, met };
}

function settings(r: StudyResult): string {
  const e = r.experiment;
  const m = e.model;
  const data = `${e.data.format}, ${e.data.trainLimit || 'all'} training images (${e.data.validationSplit * 100}% held out for validation), ${e.data.testLimit || 'all'} test images`;
  const net = `${m.family}, depth ${m.depth}, width ${m.width}${m.normalization ? ', normalisation' : ', no normalisation'}`;
  const widen = `factor ${e.widen.factor} (mode ${e.widen.mode})`;
  const imitate = `${groupingPhrase(e.imitate.groups)}, ${e.imitate.epochsPerLayer} epoch(s) per block, batch ${e.imitate.batchSize}, ${e.imitate.optimizer} ${e.imitate.learningRate} ${e.imitate.schedule}, input ${e.imitate.input}, lower blocks ${e.imitate.lowerLayers}, ${e.imitate.normalizeTargets ? 'normalised' : 'raw'} MSE`;
  const ft = `${e.finetune.epochs} epochs, batch ${e.finetune.batchSize}, ${e.finetune.optimizer} ${e.finetune.learningRate} ${e.finetune.schedule}, kd weight ${e.finetune.kdWeight}, T ${e.finetune.temperature}`;
  const wide = `${e.wide.epochs} epochs, batch ${e.wide.batchSize}, ${e.wide.optimizer} ${e.wide.learningRate} ${e.wide.schedule}`;
  return [
    `- Experiment: \`${r.study.file}\` (${r.study.regime}); data: ${data}`,
    `- Thin net: ${net}; widened ${widen}`,
    `- Wide net and baselines (standard schedule): ${wide}; scratch and kd get ${r.budgetEpochs} epochs`,
    `- Imitation: ${imitate} (${r.imitationEpochs} epochs in all); fine-tune: ${ft}`,
  ].join('\n');
}

function armsTable(r: StudyResult): string {
  const rows = ['| arm | test accuracy (%) | per seed | params | seconds per seed | epochs |', '|---|---|---|---|---|---|'];
  for (const arm of ARM_NAMES) {
    const a = r.report.arms[arm];
    if (!a) continue;
    const label = armLabel(arm);
    // The matched controls train for a step count, not an epoch budget.
    const epochs = arm === 'wide' ? r.experiment.wide.epochs : arm.endsWith('-steps') || arm.endsWith('-compute') ? 'matched' : r.budgetEpochs;
    rows.push(
      `| ${label} | ${pct(a.accuracy.mean)} ± ${pct(a.accuracy.std)} | ${a.accuracy.perSeed.map(pct1).join(' ')} | ${a.params.toLocaleString('en-US')} | ${a.seconds.toFixed(0)} | ${epochs} |`,
    );
  }
  return rows.join('\n');
}

/** A difference given as a fraction, in signed points. */
export const signed = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}`;

/** Win minus each baseline seed by seed: a seed fixes split, initialisation and batch order for every arm. */
function pairedTable(r: StudyResult): string {
  const rows = ['| win - baseline, paired by seed | mean (points) | 95% interval | seeds ahead |', '|---|---|---|---|'];
  for (const arm of BASELINE_NAMES) {
    const p = r.report.paired?.[`win-${arm}`];
    if (!p) continue;
    const interval = p.low === undefined || p.high === undefined ? '- (one seed)' : `${signed(p.low)} to ${signed(p.high)}`;
    rows.push(`| win - ${ARM_LABEL[arm]} | ${signed(p.mean)} | ${interval} | ${p.ahead} of ${p.seeds} |`);
  }
  return rows.length > 2 ? rows.join('\n') : '';
}

function diagnostics(r: StudyResult): string {
  const d = r.report.diagnostics;
  if (!d) return '';
  const lines = [
    `- Wide net validation accuracy: ${d.wideValidationAccuracy.map(pct1).join(', ')} %`,
    `- Warm start (thin net right after imitation, ${d.headShared ? 'shared wide head' : 'thin head fitted as a linear probe'}): ${d.warmStartAccuracy.map(pct1).join(', ')} %`,
  ];
  const seed = d.imitation[0]?.seed;
  const blocks = d.imitation.filter((b) => b.seed === seed);
  if (blocks.length > 0) {
    lines.push(`- Imitation loss (normalised MSE on validation) start → end, seed ${seed}: ${blocks.map((b) => `${title(b)} ${b.startLoss.toFixed(2)}→${b.endLoss.toFixed(2)}`).join(', ')}`);
    if (blocks.some((b) => b.units !== undefined)) {
      lines.push(`- Dead output units after imitation (never fire on validation), seed ${seed}: ${blocks.map((b) => `${title(b)} ${b.deadUnits}/${b.units}`).join(', ')}`);
    }
  }
  const stages = Object.entries(d.stageSeconds).map(([s, v]) => `${s} ${v.toFixed(0)}`).join(', ');
  lines.push(`- Seconds per stage (mean over seeds): ${stages}; the whole study run took ${(r.wallSeconds / 60).toFixed(1)} min`);
  return lines.join('\n');
}

function verdictLine(r: StudyResult): string {
  const v = verdict(r);
  if (!v) return '';
  const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
  const parts = [`win - scratch = ${sign(v.winMinusScratch)} points (goal +1)`, `win - kd = ${sign(v.winMinusKd)} (goal >= 0)`];
  if (v.intervalAboveZero !== undefined) parts.push(`the paired interval of win - scratch ${v.intervalAboveZero ? 'is' : 'is not'} above 0`);
  parts.push(v.aheadOfStepsMatched === undefined ? "scratch at win's steps not run in this study" : `win ${v.aheadOfStepsMatched ? 'is' : 'is not'} ahead of scratch at win's steps`);
  return `**Goal ${v.met ? 'met' : 'not met'}**: ${parts.join('; ')}.`;
}

/** earlier: the table of the study's run under its earlier defaults beside this one, if kept. */
export function studySection(r: StudyResult, png: string, earlier?: string): string {
  return [
    `### ${r.study.title}`,
    '',
    settings(r),
    '',
    armsTable(r),
    '',
    pairedTable(r),
    '',
    verdictLine(r),
    '',
    diagnostics(r),
    '',
    ...(earlier ? ['Against the earlier defaults:', '', earlier, ''] : []),
    `![${r.study.title}: accuracy against budget](${png})`,
    '',
    `Measured ${r.finishedAt.slice(0, 16).replace('T', ' ')} UTC, seeds ${r.seeds.join(', ')}.`,
  ].join('\n');
}

/** How long the teacher trained, against the thin arms' budget: the headline can hold runs made
 *  under different defaults, and this is the one that moved (WIDE_EPOCHS_PER_THIN_EPOCH). */
export function wideBudget(e: Experiment): string {
  const ratio = e.wide.epochs / thinEpochBudget(e.model.depth, e.imitate, e.finetune);
  return `wide net ${e.wide.epochs} epochs, ${Number(ratio.toFixed(2))}x the thin budget`;
}

/** The study in one table (docs/EVIDENCE.md and README.md): every thin arm that ran, mean ± std, the
 *  paired difference win - scratch and the verdict. */
export function headline(results: StudyResult[]): string {
  const shown = ARM_NAMES.filter((arm) => arm !== 'win' && results.some((r) => r.report.arms[arm]));
  const seedCounts = [...new Set(results.map((r) => r.seeds.length))].join(' or ');
  const rows = [
    `Test accuracy %, mean ± std over ${seedCounts} seeds; differences in points, paired by seed.`,
    '',
    `| setting | ${shown.map((arm) => ARM_LABEL[arm]).join(' | ')} | **win** | win - scratch (paired 95% interval) | goal |`,
    `|---|${shown.map(() => '---|').join('')}---|---|---|`,
  ];
  for (const r of results) {
    const a = r.report.arms;
    const v = verdict(r);
    const cell = (arm: ArmName) => accuracyCell(a[arm]);
    const p = r.report.paired?.['win-scratch'];
    const interval = p?.low !== undefined && p.high !== undefined ? ` (${signed(p.low)} to ${signed(p.high)})` : '';
    const goal = !v ? '-' : !v.met ? '**not met**' : v.aheadOfStepsMatched === undefined ? "met (scratch at win's steps not run)" : 'met';
    const shape = `${r.experiment.model.depth} x ${r.experiment.model.width}, factor ${r.experiment.widen.factor}; ${wideBudget(r.experiment)}`;
    rows.push(`| ${r.study.title} (${shape}) | ${shown.map(cell).join(' | ')} | **${cell('win')}** | ${v ? `${v.winMinusScratch >= 0 ? '+' : ''}${v.winMinusScratch.toFixed(2)}${interval}` : '-'} | ${goal} |`);
  }
  return rows.join('\n');
}
