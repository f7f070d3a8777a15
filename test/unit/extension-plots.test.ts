// Sparklines, the SVG loss plot and the per-block curves they draw, on recorded imitation metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockCurves, currentImitationSeed } from '../../server/editor/block-losses';
import { downsample, formatLoss, sparkline } from '../../server/editor/sparkline';
import { lossPlotSvg, plotMarkdown, svgDataUri } from '../../server/editor/svg-plot';
import { recordedMetrics } from '../sidecar/editor-fixture';

test('sparkline: falling loss falls, flat is mid-height, empty is empty, length is capped', () => {
  assert.equal(sparkline([8, 4, 2, 1]), '█▆▃▁');
  assert.equal(sparkline([1, 1, 1]), '▄▄▄');
  assert.equal(sparkline([]), '');
  assert.equal(sparkline(Array.from({ length: 100 }, (_, i) => 100 - i), 6).length, 6);
  assert.equal(sparkline([1, NaN, 2]), '▁█');
  // Log scale for positive losses: one decade per step reads as even steps.
  assert.equal(sparkline([100, 10, 1]), '█▅▁');
});

test('downsample keeps the mean of each slice', () => {
  assert.deepEqual(downsample([1, 3, 5, 7], 2), [2, 6]);
  assert.deepEqual(downsample([1, 2], 5), [1, 2]);
});

test('formatLoss: three significant digits, exponent when tiny', () => {
  assert.equal(formatLoss(0.90844), '0.908');
  assert.equal(formatLoss(2.0392), '2.04');
  assert.equal(formatLoss(0.00012), '1.20e-4');
});

test('block curves from recorded metrics: ten blocks of seed 1, training batches only, losses fall', () => {
  const records = recordedMetrics();
  assert.equal(currentImitationSeed(records), 1);
  const curves = blockCurves(records);
  assert.deepEqual([...curves.keys()].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const curve of curves.values()) {
    assert.ok(curve.points.length >= 5);
    assert.ok(curve.points.every(([step], i) => i === 0 || step >= curve.points[i - 1][0]));
    assert.ok(curve.last! < curve.points[0][1], `block ${curve.block} did not fall`);
  }
  assert.match(sparkline(curves.get(0)!.points.map(([, y]) => y)), /^█.*[▁▂▃]$/);
});

test('SVG plot: well-formed, log axis labelled, a polyline per series, data URI round-trips', () => {
  const curve = blockCurves(recordedMetrics()).get(0)!;
  const svg = lossPlotSvg([{ label: 'block 1', points: curve.points }, { label: 'block 2 <b>', points: [[0, 2], [10, 1]] }], { title: 'imitation' });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>$/);
  assert.equal((svg.match(/<polyline /g) ?? []).length, 2);
  assert.match(svg, /\(log y\)/);
  assert.match(svg, /block 2 &lt;b&gt;/);
  assert.doesNotMatch(svg, /NaN/);
  const uri = svgDataUri(svg);
  assert.equal(Buffer.from(uri.split(',')[1], 'base64').toString('utf8'), svg);
  assert.match(plotMarkdown(svg, 'loss [x]'), /^!\[loss x\]\(data:image\/svg\+xml;base64,/);
  assert.match(lossPlotSvg([]), /no data yet/);
});
