// What `gowide run` prints: a one-line progress bar on a terminal, the final table, and the --json line.
import { ARM_NAMES, BASELINE_NAMES, type ArmName, type ArmResult, type JobStatus, type ProgressParams, type RunSummary, type ThinAndWideSizes } from '../protocol';

/** Each arm's name in tables (the CLI's and docs/EVIDENCE.md's). */
export const ARM_LABEL: Record<ArmName, string> = {
  wide: 'wide (teacher)',
  scratch: 'scratch',
  kd: 'kd (logits only)',
  win: 'win (three-stage)',
  'scratch-steps': "scratch at win's steps",
  'kd-steps': "kd at win's steps",
  'scratch-compute': "scratch at win's FLOPs",
};

export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-';
  if (seconds < 90) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 90 ? `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s` : `${(seconds / 3600).toFixed(1)}h`;
}

/** Block numbers as the run stores them (0-based); "0-2" for blocks imitated together. */
const blockLabel = (b: { block: number; firstBlock?: number }) => (b.firstBlock !== undefined && b.firstBlock < b.block ? `${b.firstBlock}-${b.block}` : `${b.block}`);
const percent = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : `${(x * 100).toFixed(1)}%`);

export function progressLine(p: ProgressParams, width = 24): string {
  const filled = Math.round(p.fraction * width);
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  const eta = p.etaSeconds === undefined ? '' : `  ETA ${formatSeconds(p.etaSeconds)}`;
  return `[${bar}] ${(p.fraction * 100).toFixed(0).padStart(3)}%  ${p.message}${eta}`;
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

export function summaryTable(summary: RunSummary): string {
  const rows = [['arm', 'test accuracy', 'per seed', 'params', 'seconds']];
  for (const arm of ARM_NAMES) {
    const a = summary.arms[arm];
    if (!a) continue;
    rows.push([
      ARM_LABEL[arm],
      `${(a.accuracy.mean * 100).toFixed(2)} ± ${(a.accuracy.std * 100).toFixed(2)}`,
      a.accuracy.perSeed.map((x) => (x * 100).toFixed(1)).join(' '),
      a.params.toLocaleString('en-US'),
      formatSeconds(a.seconds),
    ]);
  }
  const lines = [table(rows)];
  const paired = pairedTable(summary);
  if (paired) lines.push(paired);
  for (const warning of [weakTeacherLine(summary), lostWarmStartLine(summary)]) if (warning) lines.push(warning);
  const d = summary.diagnostics;
  if (d) {
    const stages = Object.entries(d.stageSeconds)
      .map(([stage, s]) => `${stage} ${formatSeconds(s)}`)
      .join(', ');
    if (stages) lines.push(`seconds per stage (mean over seeds): ${stages}`);
    if (d.wideValidationAccuracy.length > 0) lines.push(`wide net validation accuracy: ${d.wideValidationAccuracy.map(percent).join(' ')}`);
    if (d.warmStartAccuracy.length > 0) {
      const head = d.headShared ? 'shared wide head' : 'briefly fitted thin head';
      lines.push(`warm start (thin net after imitation, ${head}): ${d.warmStartAccuracy.map(percent).join(' ')}`);
    }
    const firstSeed = d.imitation[0]?.seed;
    const blocks = d.imitation.filter((b) => b.seed === firstSeed);
    if (blocks.length > 0) {
      lines.push(`imitation loss start→end (seed ${firstSeed}): ` + blocks.map((b) => `${blockLabel(b)}: ${b.startLoss.toFixed(2)}→${b.endLoss.toFixed(2)}`).join(', '));
      const dying = blocks.filter((b) => (b.deadUnits ?? 0) > 0);
      if (dying.length > 0) lines.push(`dead units after imitation (seed ${firstSeed}): ` + dying.map((b) => `${blockLabel(b)}: ${b.deadUnits}/${b.units}`).join(', '));
    }
    if (d.model) lines.push(`thin model (seed ${d.model.seed}, TF.js LayersModel): ${d.model.path}`);
  }
  lines.push(`run folder: ${summary.runDir}`);
  return lines.join('\n');
}

const points = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}`;

/** Win minus each baseline, seed by seed: mean, 95% interval and seeds ahead (in points). */
export function pairedTable(summary: RunSummary): string | undefined {
  const rows = [['paired (points)', 'mean', '95% interval', 'seeds ahead']];
  for (const arm of BASELINE_NAMES) {
    const p = summary.paired?.[`win-${arm}`];
    if (!p) continue;
    const interval = p.low === undefined || p.high === undefined ? '- (one seed)' : `${points(p.low)} to ${points(p.high)}`;
    rows.push([`win - ${arm}`, points(p.mean), interval, `${p.ahead} of ${p.seeds}`]);
  }
  return rows.length > 1 ? table(rows) : undefined;
}

/** The seeds where `fails(a, b)` holds for their pair of accuracies, as "a vs b" in percent. */
function failingSeeds(a: number[], b: number[], fails: (a: number, b: number) => boolean): { count: number; pairs: string } | undefined {
  const failing = a.map((x, i) => [x, b[i]]).filter(([x, y]) => fails(x, y));
  if (failing.length === 0) return undefined;
  return { count: failing.length, pairs: failing.map(([x, y]) => `${(x * 100).toFixed(1)} vs ${(y * 100).toFixed(1)}`).join(', ') };
}

/** A wide net no better than the thin net trained from scratch gives imitation nothing to pass on
 *  (seen on a 10-layer plain CNN whose wide net trained poorly on one seed). */
export function weakTeacherLine(summary: RunSummary): string | undefined {
  const wide = summary.arms.wide?.accuracy.perSeed;
  const scratch = summary.arms.scratch?.accuracy.perSeed;
  if (!wide || !scratch || wide.length !== scratch.length) return undefined;
  const weak = failingSeeds(wide, scratch, (w, s) => w <= s);
  if (!weak) return undefined;
  return `warning: the wide net was no better than scratch on ${weak.count} of ${wide.length} seeds (${weak.pairs}), so imitation had little to pass on there; train it longer (wide.epochs) or at a lower wide.learningRate`;
}

/** Below this share of the wide net's validation accuracy, imitation carried (almost) nothing over:
 *  the study's warm starts were at 0.6-1.0 of it, a 30-block MLP imitated as one group at 0.3 and
 *  fine-tuned to chance (docs/EVIDENCE.md). */
const LOST_WARM_START_SHARE = 0.5;

export function lostWarmStartLine(summary: RunSummary): string | undefined {
  const d = summary.diagnostics;
  if (!d || d.warmStartAccuracy.length !== d.wideValidationAccuracy.length) return undefined;
  const lost = failingSeeds(d.warmStartAccuracy, d.wideValidationAccuracy, (warm, wide) => warm < LOST_WARM_START_SHARE * wide);
  if (!lost) return undefined;
  return `warning: right after imitation the thin net kept less than half of the wide net's validation accuracy on ${lost.count} of ${d.warmStartAccuracy.length} seeds (${lost.pairs}), so fine-tuning started from little more than a random net; imitate block by block (imitate.groups "block"), give each block more steps (imitate.epochsPerLayer) or look for blocks with many dead units above`;
}

/** Multiply-accumulates per example of the net an arm trains: the wide net for "wide", else the thin net. */
export function armFlops(arm: ArmName, sizes: ThinAndWideSizes): number {
  return (arm === 'wide' ? sizes.wide : sizes.thin).flops;
}

/** An arm of the --json line: its result and, when the nets were sized, the FLOPs per example of its net. */
export type JsonArm = ArmResult & { flops?: number };

export interface JsonReport {
  experiment: string;
  backend: string | undefined;
  runDir: string;
  state: string;
  arms: Partial<Record<ArmName, JsonArm>>;
  paired: RunSummary['paired'];
  diagnostics: RunSummary['diagnostics'];
  error?: string;
  /** A run launched as a graph of jobs: its launcher and each job's stage, seed, latest id and state. */
  launcher?: RunSummary['launcher'];
  jobs?: Pick<JobStatus, 'stage' | 'seed' | 'jobId' | 'state'>[];
}

export function jsonReport(summary: RunSummary, sizes?: ThinAndWideSizes): JsonReport {
  const arms: JsonReport['arms'] = {};
  for (const arm of ARM_NAMES) {
    const result = summary.arms[arm];
    if (result) arms[arm] = sizes ? { ...result, flops: armFlops(arm, sizes) } : result;
  }
  const report: JsonReport = {
    experiment: summary.experiment,
    backend: summary.backend,
    runDir: summary.runDir,
    state: summary.state,
    arms,
    paired: summary.paired,
    diagnostics: summary.diagnostics,
  };
  if (summary.error) report.error = summary.error;
  if (summary.launcher) {
    report.launcher = summary.launcher;
    report.jobs = (summary.jobs ?? []).map(({ stage, seed, jobId, state }) => ({ stage, seed, jobId, state }));
  }
  return report;
}
