// The generated parts of docs/EVIDENCE.md for the pre-registered settings outside the study: the list
// (from outside-settings.ts, resolved with gowide's defaults) and the results table (from the kept
// docs/evidence/outside.json), with the count against the goal.
import type { JsonReport } from '../../server/cli/report';
import { splitCounts } from '../../server/data/split';
import { thinEpochBudget } from '../../server/experiment/budget';
import { resolveExperiment } from '../../server/experiment/resolve';
import type { Experiment, ModelConfig } from '../../server/experiment/types';
import { groupingPhrase } from '../../server/method/stages/imitation-groups';
import { scaled } from '../../server/models/spec-utils';
import type { ArmName } from '../../server/protocol';
import { pct, pct1 } from './report';
import type { KeptRun } from './keep-runs';
import { outsideGoal, OUTSIDE_SEEDS, OUTSIDE_SETTINGS, outsideExperiment, type OutsideSetting } from './outside-settings';
import { ranOnText } from './run-study';

/** One setting's run as kept in docs/evidence/outside.json. */
export type OutsideResult = KeptRun;

export type OutsideResults = Record<string, OutsideResult>;

/** The setting's experiment with every default filled in by the real resolver; throws with its
 *  problems when the resolver refuses it. */
export function resolveOutside(s: OutsideSetting, seeds: number[] = OUTSIDE_SEEDS): Experiment {
  const result = resolveExperiment(outsideExperiment(s, seeds), `outside-${s.id}.gowide.json`);
  if (!result.experiment) {
    throw new Error(`outside setting ${s.id} does not resolve:\n${result.problems.map((p) => `  ${p.field}: ${p.message} (${p.fix})`).join('\n')}`);
  }
  return result.experiment;
}

const count = (n: number) => n.toLocaleString('en-US');

/** "MLP 30 x 16", "plain CNN 6 x 8", "CNN with BatchNorm 6 x 12", "residual CNN 9 x 12". */
export function netName(m: ModelConfig): string {
  const family = m.family === 'mlp' ? 'MLP' : m.family === 'cnn' ? (m.normalization ? 'CNN with BatchNorm' : 'plain CNN') : m.family === 'resnet' ? 'residual CNN' : m.family;
  return `${family} ${m.depth} x ${m.width}`;
}

function netDetail(m: ModelConfig): string {
  const norm = m.normalization ? 'BatchNorm' : 'no normalisation';
  if (m.family === 'mlp') return `${m.depth} hidden layers of ${m.width} units, ${norm}`;
  if (m.family === 'cnn') return `${m.depth} conv layers of ${m.width} channels, ${norm}`;
  if (m.family === 'resnet') return `${m.depth} bottleneck blocks, ${m.width} channels outside, ${scaled(m.width * m.bottleneckRatio, 1)} inside, ${norm}`;
  return `${m.depth} encoder layers of width ${m.width}, ${m.heads} heads, ${m.patchSize}x${m.patchSize} patches, ${m.normalization ? 'LayerNorm' : 'no normalisation'}`;
}

function trainingImages(e: Experiment): { train: number; validation: number } {
  return splitCounts(e.data.trainLimit, e.data.validationSplit);
}

/** The pre-registered list: what each setting sets, and what it gets from the defaults. */
export function outsideListTable(settings: OutsideSetting[] = OUTSIDE_SETTINGS): string {
  const rows = [
    '| # | id | net (thin) | factor | training + validation images (trainLimit) | test images | from the defaults: widening, imitation, epochs (thin arms; wide net) | why it is on the list |',
    '|---|---|---|---|---|---|---|---|',
  ];
  settings.forEach((s, i) => {
    const e = resolveOutside(s);
    const { train, validation } = trainingImages(e);
    const budget = thinEpochBudget(e.model.depth, e.imitate, e.finetune);
    const defaults = `${e.widen.mode === 'inside' ? 'inside each block' : 'whole layers'}, ${groupingPhrase(e.imitate.groups)}, ${budget} (${e.model.depth} x ${e.imitate.epochsPerLayer} + ${e.finetune.epochs}); ${e.wide.epochs}`;
    rows.push(
      `| ${i + 1} | \`${s.id}\` | ${netName(e.model)}: ${netDetail(e.model)} | ${e.widen.factor} | ${count(train)} + ${count(validation)} (${count(e.data.trainLimit)}) | ${count(e.data.testLimit)} | ${defaults} | ${s.title} |`,
    );
  });
  return rows.join('\n');
}

/** A difference of accuracies in points, signed: "+2.23", "-0.25". */
export const signed = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}`;

function armCell(report: JsonReport, arm: ArmName): string {
  const a = report.arms[arm];
  if (!a) return '-';
  const cell = `${pct(a.accuracy.mean)} ± ${pct(a.accuracy.std)} (${a.accuracy.perSeed.map(pct1).join(', ')})`;
  return arm === 'win' ? `**${cell}**` : cell;
}

/** The file a kept result ran sets every field of `expected` as it does (the description aside). */
export function ranWith(expected: Record<string, unknown>, r: Pick<OutsideResult, 'file'>): boolean {
  return Object.keys(expected).every((key) => key === 'description' || JSON.stringify(r.file[key]) === JSON.stringify(expected[key]));
}

/** The kept result ran the setting as it is listed now (the fields an experiment file of the list sets). */
export function ranAsListed(s: OutsideSetting, r: OutsideResult): boolean {
  return ranWith(outsideExperiment(s, r.seeds), r);
}

/** Win ahead of scratch: the paired mean of win - scratch over the seeds is above 0. Undefined when
 *  the run has no such pair (an arm failed). */
export function winAhead(r: OutsideResult): boolean | undefined {
  const p = r.report.paired?.['win-scratch'];
  return p ? p.mean > 0 : undefined;
}

/** "win ahead of scratch on K of N", N the settings with results, and where that stands against the goal. */
export function countLine(results: OutsideResult[], listed = OUTSIDE_SETTINGS.length): string {
  const ahead = results.filter((r) => winAhead(r) === true).length;
  const pending = listed - results.length;
  const goal = `the goal: at least ${outsideGoal(listed)} of ${listed}`;
  const status = pending > 0 ? `${pending} of ${listed} not run yet` : ahead >= outsideGoal(listed) ? 'met' : 'not met';
  return `**win ahead of scratch on ${ahead} of ${results.length}** (${goal}: ${status}).`;
}

/** The results of every listed setting, in the list's order (a setting not run yet says so). */
export function outsideResultsTable(results: OutsideResults, settings: OutsideSetting[] = OUTSIDE_SETTINGS): string {
  const rows = [
    '| setting | wide | scratch | kd | win | win - scratch, paired (95% interval) | seeds ahead | minutes |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const ran: OutsideResult[] = [];
  for (const s of settings) {
    const e = resolveOutside(s);
    const label = `\`${s.id}\`: ${netName(e.model)}, factor ${e.widen.factor}, ${count(trainingImages(e).train)} training images`;
    const r = results[s.id];
    if (!r || !ranAsListed(s, r)) {
      rows.push(`| ${label} | ${r ? 'ran with other settings than listed: re-run it' : 'not run yet'} | | | | | | |`);
      continue;
    }
    ran.push(r);
    const p = r.report.paired?.['win-scratch'];
    const paired = !p ? '-' : `${signed(p.mean)}${p.low !== undefined && p.high !== undefined ? ` (${signed(p.low)} to ${signed(p.high)})` : ' (one seed)'}`;
    const cells = (['wide', 'scratch', 'kd', 'win'] as const).map((arm) => armCell(r.report, arm));
    rows.push(`| ${label} | ${cells.join(' | ')} | ${paired} | ${p ? `${p.ahead} of ${p.seeds}` : '-'} | ${(r.seconds / 60).toFixed(1)} |`);
  }
  const machines = [...new Set(ran.map((r) => ranOnText(r.ranOn)))];
  const seeds = [...new Set(ran.map((r) => r.seeds.join(', ')))];
  const note = ran.length === 0 ? '' : `\n\nTest accuracy in %, mean ± std (per seed); seeds ${seeds.join(' / ')}; ran on ${machines.join('; ')}.`;
  return `${rows.join('\n')}${note}\n\n${countLine(ran, settings.length)}`;
}
