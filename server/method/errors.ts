// Why a phase ended early: the user stopped it, or its loss stopped being a finite number.
import { BASELINE_NAMES, type PhaseName } from '../protocol';

export class StoppedError extends Error {
  constructor() {
    super('the run was stopped');
    this.name = 'StoppedError';
  }
}

export interface PhasePlace {
  phase: PhaseName;
  seed: number;
  block?: number;
}

export function describePlace(place: PhasePlace): string {
  const block = place.block === undefined ? '' : `, block ${place.block}`;
  return `phase "${place.phase}"${block} (seed ${place.seed})`;
}

export class DivergedError extends Error {
  constructor(
    readonly place: PhasePlace,
    readonly step: number,
    readonly value: number,
  ) {
    const hint =
      place.phase === 'imitate'
        ? 'lower imitate.learningRate, or set imitate.normalizeTargets to true'
        : (BASELINE_NAMES as readonly PhaseName[]).includes(place.phase)
          ? 'lower wide.learningRate (the baselines train with the standard schedule, the wide net\'s optimiser settings)'
          : `lower ${place.phase}.learningRate`;
    super(`The loss became ${value} in ${describePlace(place)} at step ${step}. Fix: ${hint}.`);
    this.name = 'DivergedError';
  }
}
