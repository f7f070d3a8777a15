// A sweep as SVG text: every arm's test accuracy (mean over seeds, bars ±1 std) against the swept
// value, and under each value what it costs: the wide net's parameters and FLOPs per example, and the
// seconds per seed of all arms together.
import { formatSeconds } from '../../server/cli/report';
import type { SweepJsonReport } from '../../server/cli/sweep-report';
import { pointCost, sweepArms } from './sweep-study';
import { ARM_STYLE, chartAxes, chartHead, dash, escape, legendEntry, yAxis, type Frame } from './plot-svg';

const FRAME: Frame = { width: 720, height: 480, margin: { left: 56, right: 190, top: 40, bottom: 104 } };

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export function sweepChartSvg(o: { title: string; sweep: SweepJsonReport; field: string; label: (value: unknown) => string }): string {
  const f = FRAME;
  const { width: W, height: H, margin: M } = f;
  const points = o.sweep.sweep;
  const arms = sweepArms(o.sweep);
  const spread = points.flatMap((p) => Object.values(p.arms).flatMap((a) => [a.accuracy.mean - a.accuracy.std, a.accuracy.mean + a.accuracy.std]));
  const y = yAxis(f, spread.map((v) => v * 100));
  // The swept values evenly spaced in the file's order (2, 4, 8: a log scale); arms side by side.
  const px = (i: number, k: number) => M.left + ((i + 0.5) / points.length) * (W - M.left - M.right) + (k - (arms.length - 1) / 2) * 5;
  const parts = chartHead(f, o.title, y);
  points.forEach((point, i) => {
    const cost = pointCost(point);
    const x = px(i, (arms.length - 1) / 2);
    const value = point.values[o.field];
    const lines = [
      `<tspan font-weight="bold">${escape(o.label(value))}</tspan>`,
      `wide ${compact.format(cost.wideParams)} params`,
      `${compact.format(cost.wideFlops)} FLOPs/example`,
      `${formatSeconds(cost.allSeconds)} per seed`,
    ];
    lines.forEach((line, j) => parts.push(`<text x="${x}" y="${H - M.bottom + 18 + j * 16}" text-anchor="middle">${line}</text>`));
  });
  parts.push(...chartAxes(f, `${o.field} (under each: the wide net's size and FLOPs per example; seconds per seed, all arms)`, 'test accuracy (%), mean ± std over seeds'));
  arms.forEach((arm, k) => {
    const style = ARM_STYLE[arm];
    const at = points.flatMap((p, i) => (p.arms[arm] ? [{ x: px(i, k), a: p.arms[arm]!.accuracy }] : []));
    const d = at.map((p, j) => `${j === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${y.py(p.a.mean * 100).toFixed(1)}`).join(' ');
    parts.push(`<path data-arm="${arm}" d="${d}" fill="none" stroke="${style.color}" stroke-width="2"${dash(arm)}/>`);
    for (const p of at) {
      const [top, bottom] = [y.py((p.a.mean + p.a.std) * 100), y.py((p.a.mean - p.a.std) * 100)];
      parts.push(`<path d="M${p.x.toFixed(1)},${top.toFixed(1)} V${bottom.toFixed(1)} M${(p.x - 3).toFixed(1)},${top.toFixed(1)} h6 M${(p.x - 3).toFixed(1)},${bottom.toFixed(1)} h6" stroke="${style.color}"/>`);
      parts.push(`<circle cx="${p.x.toFixed(1)}" cy="${y.py(p.a.mean * 100).toFixed(1)}" r="3.5" fill="${style.color}"/>`);
    }
    parts.push(...legendEntry(f, k, arm, style.label));
  });
  const thin = points.map((p) => p.arms.scratch?.params ?? p.arms.win?.params).find((n) => n !== undefined);
  if (thin !== undefined) parts.push(`<text x="${W - M.right + 14}" y="${M.top + 10 + arms.length * 22 + 8}" fill="#555">thin net: ${thin.toLocaleString('en-US')} params</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
