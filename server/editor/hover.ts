// Hovers on the model and widen fields of an experiment: thin and wide parameter counts and the
// memory the wide net needs; on a block's factor, that block's widths and imitation curve.
import type { Hover, Position } from 'vscode-languageserver';
import { knownExampleShape } from '../data/load';
import { blockFactor, checkExperimentText, estimateNets, formatCount, parseJsonText } from '../experiment';
import { formatBytes } from '../experiment/estimate';
import type { Experiment } from '../experiment/types';
import type { BlockCurve } from './block-losses';
import { formatLoss } from './sparkline';
import { lossPlotSvg, plotMarkdown } from './svg-plot';
import { fieldAt } from './text-ranges';

const SIZE_FIELDS = /^(model|widen|wide\.batchSize|data\.format)(\.|\[|$)/;

export function sizeMarkdown(experiment: Experiment): string | undefined {
  const known = knownExampleShape(experiment.data.format) ?? (experiment.data.format === 'idx' ? { exampleShape: [28, 28, 1], numClasses: 10 } : undefined);
  if (!known) return undefined;
  const estimate = estimateNets(experiment.model, experiment.widen, known.exampleShape, known.numClasses, experiment.wide.batchSize);
  const ratio = estimate.wide.params / Math.max(1, estimate.thin.params);
  return [
    '| | parameters |',
    '|---|---:|',
    `| thin net | ${formatCount(estimate.thin.params)} (${estimate.thin.params.toLocaleString('en-US')}) |`,
    `| wide net | ${formatCount(estimate.wide.params)} (${estimate.wide.params.toLocaleString('en-US')}), ${ratio.toFixed(1)}x |`,
    '',
    `Training the wide net needs about ${formatBytes(estimate.wideTrainingBytes)} (weights, gradients, Adam moments and a batch of ${experiment.wide.batchSize}).`,
  ].join('\n');
}

export function blockMarkdown(experiment: Experiment, block: number, curve?: BlockCurve): string {
  const factor = blockFactor(experiment.widen, block);
  const width = experiment.model.width;
  const lines = [`**Block ${block + 1}** of ${experiment.model.depth}: width ${width} → wide ${Math.round(width * factor)} (factor ${factor})`];
  if (curve && curve.points.length > 0) {
    lines.push('', `Imitation loss (seed ${curve.seed}), last ${formatLoss(curve.last!)}:`, '');
    lines.push(plotMarkdown(lossPlotSvg([{ label: `block ${block + 1}`, points: curve.points }], { title: `block ${block + 1} imitation loss` }), `block ${block + 1} imitation loss`));
  }
  return lines.join('\n');
}

export function experimentHover(text: string, filePath: string, position: Position, curves: Map<number, BlockCurve>): Hover | undefined {
  const parsed = parseJsonText(text);
  const field = fieldAt(text, parsed, position);
  if (!field || !SIZE_FIELDS.test(field.path)) return undefined;
  const { experiment } = checkExperimentText(text, filePath);
  if (!experiment) return undefined;
  const parts: string[] = [];
  const perLayer = /^widen\.perLayer\[(\d+)\]$/.exec(field.path);
  if (perLayer) parts.push(blockMarkdown(experiment, Number(perLayer[1]), curves.get(Number(perLayer[1]))), '');
  const sizes = sizeMarkdown(experiment);
  if (sizes) parts.push(sizes);
  if (parts.length === 0) return undefined;
  return { contents: { kind: 'markdown', value: parts.join('\n') }, range: field.range };
}
