// What `gowide run` prints for a sweep: every arm's accuracy against the swept values with its cost
// (parameters, FLOPs per example, seconds), and the --json line.
import { ARM_NAMES, type ArmName, type ArmResult, type RunSummary, type StartSweepResult } from '../protocol';
import { pointText, valueText } from '../sweep-values';
import { armFlops, formatSeconds, table } from './report';

export { valueText };

/** An arm of a sweep point: the run's ArmResult plus the FLOPs per example of the net it trains. */
export type SweepArm = ArmResult & { flops: number };

export interface SweepJsonReport {
  experiment: string;
  backend: string | undefined;
  sweepDir: string;
  sweep: { values: Record<string, unknown>; runDir: string | null; state: string; arms: Partial<Record<ArmName, SweepArm>>; paired?: RunSummary['paired']; error?: string }[];
}

function pointArms(point: StartSweepResult['points'][number]): Partial<Record<ArmName, SweepArm>> {
  const arms: Partial<Record<ArmName, SweepArm>> = {};
  for (const arm of ARM_NAMES) {
    const result = point.summary?.arms[arm];
    if (result) arms[arm] = { ...result, flops: point.sizes ? armFlops(arm, point.sizes) : NaN };
  }
  return arms;
}

export function sweepJsonReport(experiment: string, result: StartSweepResult): SweepJsonReport {
  return {
    experiment,
    backend: result.backend,
    sweepDir: result.sweepDir,
    sweep: result.points.map((point) => ({
      values: point.values,
      runDir: point.runDir ?? null,
      state: point.summary?.state ?? 'not started',
      arms: pointArms(point),
      ...(point.summary?.paired ? { paired: point.summary.paired } : {}),
      ...(point.summary?.error ? { error: point.summary.error } : {}),
    })),
  };
}

export const count = (n: number) => (Number.isFinite(n) ? n.toLocaleString('en-US') : '-');

export function sweepTable(report: SweepJsonReport): string {
  const fields = Object.keys(report.sweep[0]?.values ?? {});
  const rows = [[...fields, 'arm', 'test accuracy', 'params', 'FLOPs', 'seconds']];
  const lines: string[] = [];
  for (const point of report.sweep) {
    const values = fields.map((f) => valueText(point.values[f]));
    const arms = ARM_NAMES.filter((arm) => point.arms[arm]);
    arms.forEach((arm, i) => {
      const a = point.arms[arm]!;
      // The swept values on the point's first row only, so each point reads as one block.
      rows.push([...(i === 0 ? values : values.map(() => '')), arm, `${(a.accuracy.mean * 100).toFixed(2)} ± ${(a.accuracy.std * 100).toFixed(2)}`, count(a.params), count(a.flops), formatSeconds(a.seconds)]);
    });
    if (arms.length === 0) rows.push([...values, '-', point.state, '-', '-', '-']);
    if (point.state !== 'done') lines.push(`${fields.map((f, i) => `${f} ${values[i]}`).join(', ')}: ${point.state}${point.error ? `: ${point.error}` : ''}`);
  }
  lines.unshift(table(rows));
  lines.push('FLOPs: multiply-accumulates per example of the net the arm trains (wide: the wide net; the others: the thin net)');
  for (const point of report.sweep) if (point.runDir) lines.push(`run folder (${pointText(point.values)}): ${point.runDir}`);
  lines.push(`sweep folder: ${report.sweepDir}`);
  return lines.join('\n');
}
