// What every stage of one seed needs: the experiment, the data, the seed, the stop signal, and
// where metrics and progress go.
import type { Dataset } from '../data/types';
import type { Experiment } from '../experiment/types';
import type { BlockNet, NetSpec, ProjectionBuilder } from '../models/types';
import type { PhaseName } from '../protocol';
import type { NewMetric } from '../runs/metrics-log';

export interface NetFactory {
  buildNet(spec: NetSpec): BlockNet;
  buildProjection: ProjectionBuilder;
}

export interface StageReporter {
  metric(record: NewMetric): void;
  /** Steps done so far in the current phase (and block); `total` is that phase's step count. */
  steps(phase: PhaseName, block: number | undefined, done: number, total: number): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export interface StageContext {
  experiment: Experiment;
  data: Dataset;
  seed: number;
  factory: NetFactory;
  report: StageReporter;
  signal?: AbortSignal;
  /** Read the loss back every this many steps. */
  readEvery: number;
}

/** Per-block widening factors of the wide net. */
export function wideFactors(experiment: Experiment): number[] {
  const { depth } = experiment.model;
  const perLayer = experiment.widen.perLayer;
  if (perLayer && perLayer.length === depth) return perLayer.slice();
  return new Array<number>(depth).fill(experiment.widen.factor);
}

/** Seeds of the nets and batch streams derived from the run seed, distinct per role. */
export const seedFor = {
  wideNet: (seed: number) => seed * 7 + 1,
  thinNet: (seed: number) => seed * 7 + 2,
  projection: (seed: number, block: number) => seed * 7919 + 31 * block + 3,
  stream: (seed: number, phase: PhaseName, block = 0) => seed * 104729 + phase.length * 101 + phase.charCodeAt(0) * 13 + block,
};

export function netSpec(ctx: StageContext, factors: number[], seed: number): NetSpec {
  const { experiment, data } = ctx;
  return {
    family: experiment.model.family,
    model: experiment.model,
    data: { exampleShape: data.exampleShape, numClasses: data.numClasses, vocabSize: data.vocabSize },
    factors,
    mode: experiment.widen.mode,
    seed,
  };
}

export function buildThinNet(ctx: StageContext): BlockNet {
  return ctx.factory.buildNet(netSpec(ctx, new Array<number>(ctx.experiment.model.depth).fill(1), seedFor.thinNet(ctx.seed)));
}

export function buildWideNet(ctx: StageContext): BlockNet {
  return ctx.factory.buildNet(netSpec(ctx, wideFactors(ctx.experiment), seedFor.wideNet(ctx.seed)));
}
