// The settings of the evidence study (issue 8): one committed example per family, each run with the
// paper's protocol (wide net on the standard schedule; imitation + fine-tuning on the same epoch budget
// as the scratch and kd baselines), 3 seeds.
export interface Study {
  id: string;
  title: string;
  /** Experiment file, relative to the repository root. */
  file: string;
  /** Why this setting is in the study. */
  regime: string;
}

export const STUDIES: Study[] = [
  {
    id: 'mlp',
    title: 'Deep thin MLP',
    file: 'examples/fashion-mnist-mlp.gowide.json',
    regime: 'plain deep net, no normalisation: hard for scratch training',
  },
  {
    id: 'cnn',
    title: 'Plain deep CNN',
    file: 'examples/fashion-mnist-cnn.gowide.json',
    regime: 'plain deep conv net, no normalisation: hard for scratch training',
  },
  {
    id: 'resnet',
    title: 'Residual CNN',
    file: 'examples/fashion-mnist-resnet.gowide.json',
    regime: 'residual bottleneck blocks with BatchNorm, widened inside the block: the paper\'s ResNet recipe',
  },
];

export function studiesById(ids: string[] | undefined): Study[] {
  if (!ids) return STUDIES;
  const unknown = ids.filter((id) => !STUDIES.some((s) => s.id === id));
  if (unknown.length > 0) throw new Error(`--only: unknown study ${unknown.join(', ')}; use ${STUDIES.map((s) => s.id).join(', ')}`);
  return STUDIES.filter((s) => ids.includes(s.id));
}
