// A sweep's results as the widening view draws them: every arm's test accuracy against the swept value,
// and each point's cost (the wide net's parameters and FLOPs per example, the seconds of all its arms).
import { ARM_NAMES, type ArmName, type StartSweepResult } from '../../server/protocol';
import { valueText } from '../../server/sweep-values';

export interface SweepPointRow {
  label: string;
  state: string;
  accuracy: Partial<Record<ArmName, number>>;
  wideParams?: number;
  wideFlops?: number;
  seconds?: number;
}

export interface SweepView {
  /** The swept fields, e.g. "widen.factor" or "model.width, widen.factor". */
  field: string;
  /** The x of each point: the value itself when one numeric field is swept, else 1, 2, 3... */
  xs: number[];
  arms: ArmName[];
  /** Points in x order. */
  rows: SweepPointRow[];
}

export function sweepView(result: StartSweepResult): SweepView {
  const fields = Object.keys(result.points[0]?.values ?? {});
  const numeric = fields.length === 1 && result.points.every((p) => typeof p.values[fields[0]] === 'number');
  const points = result.points.map((point, i) => ({ point, x: numeric ? (point.values[fields[0]] as number) : i + 1 })).sort((a, b) => a.x - b.x);
  const arms = ARM_NAMES.filter((arm) => result.points.some((p) => p.summary?.arms[arm]));
  const rows = points.map(({ point }): SweepPointRow => {
    const armResults = point.summary?.arms ?? {};
    const accuracy: Partial<Record<ArmName, number>> = {};
    for (const arm of arms) if (armResults[arm]) accuracy[arm] = armResults[arm]!.accuracy.mean;
    const seconds = Object.values(armResults).reduce((sum, a) => sum + (a?.seconds ?? 0), 0);
    return {
      label: fields.map((f) => valueText(point.values[f])).join(', '),
      state: point.summary?.state ?? 'not started',
      accuracy,
      ...(point.sizes ? { wideParams: point.sizes.wide.params, wideFlops: point.sizes.wide.flops } : {}),
      ...(point.summary ? { seconds } : {}),
    };
  });
  return { field: fields.join(', '), xs: points.map((p) => p.x), arms, rows };
}
