// Accuracy against budget: each arm's validation accuracy after every epoch, with the x axis in
// epochs the arm's own net has trained. The three-stage thin net's budget starts with imitation
// (depth x epochsPerLayer epochs, ending at the warm start) and goes on with fine-tuning.
import type { ArmName, MetricRecord } from '../../server/protocol';

export interface CurvePoint {
  epochs: number;
  accuracy: number;
}

export type ArmCurves = Partial<Record<ArmName, CurvePoint[]>>;

const PHASE_ARM = { wide: 'wide', scratch: 'scratch', kd: 'kd', finetune: 'win' } as const;

/** Per-seed curves of one run's metrics; imitationEpochs = depth x epochsPerLayer. */
export function seedCurves(records: MetricRecord[], seed: number, imitationEpochs: number): ArmCurves {
  const curves: ArmCurves = {};
  const add = (arm: ArmName, point: CurvePoint) => (curves[arm] ??= []).push(point);
  for (const r of records) {
    if (r.seed !== seed || r.split !== 'validation' || r.accuracy === undefined) continue;
    if (r.phase === 'imitate' && r.block === undefined) add('win', { epochs: imitationEpochs, accuracy: r.accuracy });
    else if (r.phase in PHASE_ARM && r.epoch !== undefined) {
      const arm = PHASE_ARM[r.phase as keyof typeof PHASE_ARM];
      add(arm, { epochs: (arm === 'win' ? imitationEpochs : 0) + r.epoch, accuracy: r.accuracy });
    }
  }
  for (const points of Object.values(curves)) points.sort((a, b) => a.epochs - b.epochs);
  return curves;
}

/** The mean over seeds at the budgets every seed reached. */
export function meanCurves(perSeed: ArmCurves[]): ArmCurves {
  const mean: ArmCurves = {};
  const arms = new Set(perSeed.flatMap((c) => Object.keys(c) as ArmName[]));
  for (const arm of arms) {
    const series = perSeed.map((c) => c[arm] ?? []);
    const budgets = series[0].map((p) => p.epochs).filter((x) => series.every((s) => s.some((p) => Math.abs(p.epochs - x) < 1e-6)));
    mean[arm] = budgets.map((x) => ({
      epochs: x,
      accuracy: series.reduce((sum, s) => sum + s.find((p) => Math.abs(p.epochs - x) < 1e-6)!.accuracy, 0) / series.length,
    }));
  }
  return mean;
}
