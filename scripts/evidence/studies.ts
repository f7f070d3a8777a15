// The settings of the evidence study (issue 8): one committed example per family, each run with the
// paper's protocol (wide net on the standard schedule; imitation + fine-tuning on the same epoch budget
// as the scratch and kd baselines). The study adds the matched controls (issue 17) to every setting
// and runs more seeds than the examples do; everything else comes from the example file.
import { BASELINE_NAMES, type BaselineName } from '../../server/protocol';
import type { EarlierDefaults } from './earlier-defaults';

/** Every baseline and matched control, on every setting. */
export const STUDY_BASELINES: BaselineName[] = [...BASELINE_NAMES];
export const STUDY_SEEDS = [1, 2, 3, 4, 5];
export interface Study {
  id: string;
  title: string;
  /** Experiment file, relative to the repository root. */
  file: string;
  /** Why this setting is in the study. */
  regime: string;
  /** The study's kept runs under the defaults it had before they changed (oldest first), shown beside the current run. */
  earlier?: EarlierDefaults[];
  /** A kept screen of variants of the example (docs/evidence/, screen-report.ts) that chose its defaults. */
  screen?: string;
}

export const STUDIES: Study[] = [
  {
    id: 'mlp',
    title: 'Deep thin MLP',
    file: 'examples/fashion-mnist-mlp.gowide.json',
    regime: 'plain deep net, no normalisation: hard for scratch training',
    earlier: [{ json: 'mlp-wide-1x.json', label: 'until session 12' }],
  },
  {
    id: 'cnn',
    title: 'Plain deep CNN',
    file: 'examples/fashion-mnist-cnn.gowide.json',
    regime: 'plain deep conv net, no normalisation: hard for scratch training',
    earlier: [{ json: 'cnn-wide-1x.json', label: 'until session 11' }],
  },
  {
    id: 'resnet',
    title: 'Residual CNN',
    file: 'examples/fashion-mnist-resnet.gowide.json',
    regime: 'residual bottleneck blocks with BatchNorm, widened inside the block: the paper\'s ResNet recipe',
    earlier: [{ json: 'resnet-wide-1x.json', label: 'until session 13' }],
  },
  {
    id: 'transformer',
    title: 'Deep thin transformer on image patches',
    file: 'examples/fashion-mnist-transformer.gowide.json',
    regime: 'post-LN encoder with residuals and LayerNorm, widened inside each layer, in its heads and feed-forward width; the paper\'s BERT recipe also widens the hidden size, which lost here',
    earlier: [
      { json: 'transformer-widen-all.json', label: 'until session 10' },
      { json: 'transformer-wide-1x.json', label: 'in session 10' },
    ],
    screen: 'transformer-screen.json',
  },
];

export function studiesById(ids: string[] | undefined): Study[] {
  if (!ids) return STUDIES;
  const unknown = ids.filter((id) => !STUDIES.some((s) => s.id === id));
  if (unknown.length > 0) throw new Error(`--only: unknown study ${unknown.join(', ')}; use ${STUDIES.map((s) => s.id).join(', ')}`);
  return STUDIES.filter((s) => ids.includes(s.id));
}

/** The experiment a study runs: its example file with the study's arms and seeds. */
export function studyExperiment(example: Record<string, unknown>, seeds: number[] = STUDY_SEEDS): Record<string, unknown> {
  return { ...example, baselines: STUDY_BASELINES, seeds };
}
