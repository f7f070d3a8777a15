// Inlay hints next to each block's widening factor: a sparkline of the block's imitation loss in the
// newest run and its last value; hovering the hint shows the whole curve as an image.
import { InlayHintKind, type InlayHint, type InlayHintLabelPart, type MarkupContent } from 'vscode-languageserver';
import { parseJsonText } from '../experiment';
import type { BlockCurve } from './block-losses';
import { formatLoss, sparkline } from './sparkline';
import { lossPlotSvg, plotMarkdown } from './svg-plot';
import { tokenEnd, valueOffset } from './text-ranges';
import { positionAt } from '../experiment/json-text';

const WIDTH_PER_ENTRY = 8;
const WIDTH_SHARED = 5;

function curveTooltip(curve: BlockCurve): MarkupContent {
  const title = `block ${curve.block + 1} imitation loss`;
  return {
    kind: 'markdown',
    value: `**Block ${curve.block + 1}**, seed ${curve.seed}: ${curve.points.length} steps, last ${formatLoss(curve.last!)}\n\n${plotMarkdown(lossPlotSvg([{ label: `block ${curve.block + 1}`, points: curve.points }], { title }), title)}`,
  };
}

function hintText(curve: BlockCurve, width: number): string {
  return `${sparkline(curve.points.map(([, y]) => y), width)} ${formatLoss(curve.last!)}`;
}

export function experimentInlayHints(text: string, curves: Map<number, BlockCurve>): InlayHint[] {
  if (curves.size === 0) return [];
  const parsed = parseJsonText(text);
  const hints: InlayHint[] = [];
  const perLayer = [...parsed.locations.keys()].filter((p) => /^widen\.perLayer\[\d+\]$/.test(p));
  if (perLayer.length > 0) {
    for (const path of perLayer) {
      const block = Number(/\[(\d+)\]$/.exec(path)![1]);
      const curve = curves.get(block);
      if (!curve || curve.points.length === 0) continue;
      const at = parsed.locations.get(path)!;
      const end = positionAt(text, tokenEnd(text, at.offset));
      hints.push({
        position: { line: end.line - 1, character: end.column - 1 },
        label: [{ value: hintText(curve, WIDTH_PER_ENTRY), tooltip: curveTooltip(curve) }],
        kind: InlayHintKind.Parameter,
        paddingLeft: true,
      });
    }
    return hints;
  }
  // One factor for every block: one hint after it with a part per block, each with its own plot.
  const factor = parsed.locations.get('widen.factor') ?? parsed.locations.get('widen');
  if (!factor) return [];
  const start = factor === parsed.locations.get('widen.factor') ? valueOffset(text, factor) : factor.offset;
  const end = positionAt(text, tokenEnd(text, start));
  const parts: InlayHintLabelPart[] = [];
  for (const curve of [...curves.values()].sort((a, b) => a.block - b.block)) {
    if (curve.points.length === 0) continue;
    if (parts.length > 0) parts.push({ value: ' · ' });
    parts.push({ value: `b${curve.block + 1} ${hintText(curve, WIDTH_SHARED)}`, tooltip: curveTooltip(curve) });
  }
  if (parts.length === 0) return [];
  hints.push({ position: { line: end.line - 1, character: end.column - 1 }, label: parts, kind: InlayHintKind.Parameter, paddingLeft: true });
  return hints;
}
