// The widening table's numbers: build the thin and the wide net an experiment describes and read each
// block's exact parameter and FLOP counts (the models own the architecture; estimates would drift).
import { dirname, resolve as resolvePath } from 'node:path';
import { readFileSync } from 'node:fs';
import type { NetSizesResult, PartSize, ThinAndWideSizes } from '../protocol';
import { checkExperimentText } from '../experiment/load';
import type { Experiment } from '../experiment/types';
import { BUILTIN_DATASETS, isBuiltinName } from '../data/builtin';
import { knownExampleShape, loadDataset } from '../data/load';
import { wideFactors } from '../method/context';
import { buildNet } from './build';
import type { BlockNet, DataShape } from './types';

async function dataShapeOf(experiment: Experiment, experimentPath: string): Promise<DataShape> {
  const format = experiment.data.format;
  if (isBuiltinName(format)) {
    const info: { exampleShape: readonly number[]; numClasses: number; vocabSize?: number } = BUILTIN_DATASETS[format];
    return { exampleShape: [...info.exampleShape], numClasses: info.numClasses, vocabSize: info.vocabSize };
  }
  const known = knownExampleShape(format);
  if (known) return { exampleShape: known.exampleShape, numClasses: known.numClasses };
  // Files (idx, csv) and sequence data (vocabulary size) need the data set itself.
  const dataset = await loadDataset(experiment.data, dirname(experimentPath), experiment.seeds[0] ?? 1);
  return { exampleShape: dataset.exampleShape, numClasses: dataset.numClasses, vocabSize: dataset.vocabSize };
}

function sizeOf(part: { params: number; flops: number }): PartSize {
  return { params: part.params, flops: part.flops };
}

/** The thin and the wide net's parameters and FLOPs per example (a sweep point's cost). */
export async function thinAndWideSizes(experiment: Experiment, experimentPath: string): Promise<ThinAndWideSizes> {
  const data = await dataShapeOf(experiment, resolvePath(experimentPath));
  const { model, widen } = experiment;
  const sizeOfNet = (factors: number[]): PartSize => {
    const net = buildNet({ family: model.family, model, data, factors, mode: widen.mode, seed: 1 });
    try {
      return sizeOf(net);
    } finally {
      net.dispose();
    }
  };
  return { thin: sizeOfNet(new Array<number>(model.depth).fill(1)), wide: sizeOfNet(wideFactors(experiment)) };
}

export async function computeNetSizes(path: string, text?: string): Promise<NetSizesResult> {
  const file = resolvePath(path);
  const checked = checkExperimentText(text ?? readFileSync(file, 'utf8'), file);
  const experiment = checked.experiment;
  if (!experiment) {
    return { family: 'mlp', mode: 'inside', factor: 1, blocks: [], thin: { params: 0, flops: 0 }, wide: { params: 0, flops: 0 }, problems: checked.problems };
  }
  const { model, widen } = experiment;
  const data = await dataShapeOf(experiment, file);
  const factors = wideFactors(experiment);
  const build = (f: number[]): BlockNet => buildNet({ family: model.family, model, data, factors: f, mode: widen.mode, seed: 1 });
  const thin = build(new Array<number>(model.depth).fill(1));
  let wide: BlockNet | undefined;
  try {
    wide = build(factors);
    const wideNet = wide;
    return {
      family: model.family,
      mode: widen.mode,
      factor: widen.factor,
      perLayer: widen.perLayer,
      blocks: thin.blocks.map((block, index) => ({
        index,
        thinWidth: model.width,
        wideWidth: Math.round(model.width * factors[index]),
        factor: factors[index],
        thin: sizeOf(block),
        wide: sizeOf(wideNet.blocks[index]),
      })),
      thin: sizeOf(thin),
      wide: sizeOf(wideNet),
      problems: checked.problems,
    };
  } finally {
    thin.dispose();
    wide?.dispose();
  }
}
