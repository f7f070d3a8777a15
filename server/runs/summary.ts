// Turning per-seed outcomes into the RunSummary's arms and diagnostics.
import { ARM_NAMES, PHASE_NAMES, type ArmName, type ArmResult, type PhaseName, type RunDiagnostics } from '../protocol';
import type { SeedOutcome } from '../method/seed-pipeline';

export function meanAndStd(values: number[]): { mean: number; std: number } {
  if (values.length === 0) return { mean: NaN, std: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length < 2) return { mean, std: 0 };
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

const mean = (values: number[]) => meanAndStd(values).mean;

function armSeconds(arm: ArmName, o: SeedOutcome): number | undefined {
  const s = o.seconds;
  if (arm === 'win') return s.imitate === undefined && s.finetune === undefined ? undefined : (s.imitate ?? 0) + (s.finetune ?? 0);
  return s[arm];
}

export function summarizeArms(outcomes: SeedOutcome[]): Partial<Record<ArmName, ArmResult>> {
  const arms: Partial<Record<ArmName, ArmResult>> = {};
  for (const arm of ARM_NAMES) {
    const withArm = outcomes.filter((o) => o.test[arm] !== undefined);
    if (withArm.length === 0) continue;
    const perSeed = withArm.map((o) => o.test[arm]!);
    arms[arm] = {
      accuracy: { ...meanAndStd(perSeed), perSeed },
      params: arm === 'wide' ? withArm[0].params.wide : withArm[0].params.thin,
      seconds: mean(withArm.map((o) => armSeconds(arm, o) ?? 0)),
    };
  }
  return arms;
}

export function summarizeDiagnostics(outcomes: SeedOutcome[], base: Partial<RunDiagnostics> = {}): RunDiagnostics {
  const stageSeconds: Partial<Record<PhaseName, number>> = {};
  for (const phase of PHASE_NAMES) {
    const values = outcomes.map((o) => o.seconds[phase]).filter((v): v is number => v !== undefined);
    if (values.length > 0) stageSeconds[phase] = mean(values);
  }
  return {
    ...base,
    wideValidationAccuracy: outcomes.map((o) => o.wideValidationAccuracy).filter((v): v is number => v !== undefined),
    warmStartAccuracy: outcomes.map((o) => o.warmStartAccuracy).filter((v): v is number => v !== undefined),
    headShared: outcomes.find((o) => o.headShared !== undefined)?.headShared,
    imitation: outcomes.flatMap((o) => o.imitation.map((b) => ({ seed: o.seed, block: b.block, ...(b.firstBlock < b.block ? { firstBlock: b.firstBlock } : {}), startLoss: b.startLoss, endLoss: b.endLoss, deadUnits: b.deadUnits, units: b.units }))),
    stageSeconds,
  };
}
