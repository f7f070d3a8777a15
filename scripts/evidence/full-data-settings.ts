// The study's settings at full data (`npm run evidence:full-data`, docs/EVIDENCE.md): each study's example
// file with every Fashion-MNIST training image (the example's validationSplit still held out) and every
// test image, scratch as the only baseline and the chosen seeds. FULL_DATA is the one place that says
// which fields change; everything else is the example's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Experiment } from '../../server/experiment/types';
import type { BaselineName } from '../../server/protocol';
import { ROOT } from './evidence-doc';
import { checkedExperiment, exampleForElsewhere, experimentText } from './example-file';
import type { Study } from './studies';

/** The fields set over the example: data limits of 0 mean all images; scratch pairs win seed by seed. */
export const FULL_DATA = {
  data: { trainLimit: 0, testLimit: 0 },
  baselines: ['scratch'] as BaselineName[],
};

export const FULL_DATA_SEEDS = [1];

export interface FullDataFile {
  /** The experiment file as written into the runs folder. */
  file: Record<string, unknown>;
  /** The same, with every default filled in by the experiment checker. */
  experiment: Experiment;
}

/** The study's example at full data; throws, naming the study, when the checker refuses it. */
export function fullDataFile(study: Study, seeds: number[] = FULL_DATA_SEEDS, root = ROOT): FullDataFile {
  const examplePath = join(root, study.file);
  const example = exampleForElsewhere(JSON.parse(readFileSync(examplePath, 'utf8')) as Record<string, unknown>, examplePath);
  const name = `full-data-${study.id}`;
  const file = {
    ...example,
    name,
    // The example's own description names its data size and seeds, which full data replaces.
    description: `${study.title} (${study.file}) at full data: every Fashion-MNIST training and test image, scratch as the only baseline, seeds ${seeds.join(', ')}.`,
    data: { ...example.data, ...FULL_DATA.data },
    baselines: FULL_DATA.baselines,
    seeds,
  };
  return { file, experiment: checkedExperiment(experimentText(file), join(root, 'runs', `${name}.gowide.json`), `${study.id} at full data`) };
}
