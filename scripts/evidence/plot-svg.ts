// A line chart as SVG text: one line per arm, validation accuracy (%) against epochs trained, with
// the final test accuracy of each arm as a marker at the end of its budget.
import { ARM_NAMES, type ArmName } from '../../server/protocol';
import type { ArmCurves } from '../../webview/lib/budget-curves';

export interface ChartInput {
  title: string;
  curves: ArmCurves;
  /** Epochs the three-stage arm spends imitating before its warm start (shaded). */
  imitationEpochs: number;
  /** Mean test accuracy per arm, drawn at the arm's last budget. */
  finalTest: Partial<Record<ArmName, number>>;
}

export const ARM_STYLE: Record<ArmName, { color: string; label: string; dash?: string }> = {
  wide: { color: '#7f7f7f', label: 'wide (teacher)', dash: '6 4' },
  scratch: { color: '#1f77b4', label: 'scratch' },
  kd: { color: '#2ca02c', label: 'kd (logits only)' },
  win: { color: '#d62728', label: 'win (3 stages)' },
  'scratch-steps': { color: '#1f77b4', label: 'scratch, win\'s steps', dash: '2 3' },
  'kd-steps': { color: '#2ca02c', label: 'kd, win\'s steps', dash: '2 3' },
  'scratch-compute': { color: '#9467bd', label: 'scratch, win\'s FLOPs' },
};
const ARMS: readonly ArmName[] = ARM_NAMES;

/** The drawing area of a chart: its size and the margins around the plot. */
export interface Frame {
  width: number;
  height: number;
  margin: { left: number; right: number; top: number; bottom: number };
}

const FRAME: Frame = { width: 720, height: 420, margin: { left: 56, right: 190, top: 40, bottom: 46 } };

export const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function niceStep(range: number, target: number): number {
  const raw = range / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
}

/** A y axis over the values (at least 5 units tall), its ends on whole steps, and the pixel row of a value. */
export function yAxis(f: Frame, values: number[]): { min: number; max: number; step: number; py: (y: number) => number } {
  const step = niceStep(Math.max(5, Math.max(...values) - Math.min(...values)), 6);
  const min = Math.floor(Math.min(...values) / step) * step;
  const max = Math.ceil(Math.max(...values) / step) * step;
  const py = (y: number) => f.height - f.margin.bottom - ((y - min) / Math.max(1e-9, max - min)) * (f.height - f.margin.top - f.margin.bottom);
  return { min, max, step, py };
}

/** The SVG's opening, its white background, the title and the y axis's grid lines with their labels. */
export function chartHead(f: Frame, title: string, y: ReturnType<typeof yAxis>): string[] {
  const { width: W, height: H, margin: M } = f;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`,
  ];
  for (let v = y.min; v <= y.max + 1e-9; v += y.step) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y.py(v)}" y2="${y.py(v)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${M.left - 6}" y="${y.py(v) + 4}" text-anchor="end">${+v.toFixed(1)}</text>`);
  }
  return parts;
}

/** The two axes and their titles (the x title on the SVG's last line). */
export function chartAxes(f: Frame, xTitle: string, yTitle: string): string[] {
  const { width: W, height: H, margin: M } = f;
  return [
    `<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 10}" text-anchor="middle">${escape(xTitle)}</text>`,
    `<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${escape(yTitle)}</text>`,
  ];
}

/** The arm's line sample and label in the legend column right of the plot, row i. */
export function legendEntry(f: Frame, i: number, arm: ArmName, label: string): string[] {
  const style = ARM_STYLE[arm];
  const x = f.width - f.margin.right;
  const ly = f.margin.top + 10 + i * 22;
  return [
    `<line x1="${x + 14}" x2="${x + 40}" y1="${ly}" y2="${ly}" stroke="${style.color}" stroke-width="2"${dash(arm)}/>`,
    `<text x="${x + 46}" y="${ly + 4}">${escape(label)}</text>`,
  ];
}

/** The arm's stroke-dasharray attribute, if its line is dashed. */
export const dash = (arm: ArmName) => (ARM_STYLE[arm].dash ? ` stroke-dasharray="${ARM_STYLE[arm].dash}"` : '');

export function chartSvg(input: ChartInput): string {
  const f = FRAME;
  const { width: W, height: H, margin: M } = f;
  const points = ARMS.flatMap((a) => input.curves[a] ?? []);
  const finals = ARMS.flatMap((a) => (input.finalTest[a] === undefined ? [] : [input.finalTest[a]!]));
  const y = yAxis(f, [...points.map((p) => p.accuracy), ...finals].map((v) => v * 100));
  const xMax = Math.max(1, ...points.map((p) => p.epochs));
  const px = (x: number) => M.left + (x / xMax) * (W - M.left - M.right);
  const py = y.py;
  const parts = chartHead(f, input.title, y);
  const xStep = niceStep(xMax, 8);
  for (let x = 0; x <= xMax + 1e-9; x += xStep) {
    parts.push(`<text x="${px(x)}" y="${H - M.bottom + 16}" text-anchor="middle">${+x.toFixed(2)}</text>`);
  }
  parts.push(`<rect x="${px(0)}" y="${M.top}" width="${px(input.imitationEpochs) - px(0)}" height="${H - M.top - M.bottom}" fill="#d62728" fill-opacity="0.06"/>`);
  parts.push(`<text x="${px(input.imitationEpochs) - 4}" y="${M.top + 14}" text-anchor="end" fill="#a61c1c">win: layerwise imitation</text>`);
  parts.push(...chartAxes(f, 'epochs trained (thin arms: imitation + fine-tune = the scratch budget)', 'accuracy (%): lines validation, dots test'));
  ARMS.forEach((arm, i) => {
    const style = ARM_STYLE[arm];
    const curve = input.curves[arm] ?? [];
    if (curve.length > 0) {
      const d = curve.map((p, j) => `${j === 0 ? 'M' : 'L'}${px(p.epochs).toFixed(1)},${py(p.accuracy * 100).toFixed(1)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${style.color}" stroke-width="2"${dash(arm)}/>`);
    }
    const final = input.finalTest[arm];
    if (final !== undefined && curve.length > 0) {
      const last = curve[curve.length - 1];
      parts.push(`<circle cx="${px(last.epochs)}" cy="${py(final * 100)}" r="4.5" fill="${style.color}"/>`);
    }
    parts.push(...legendEntry(f, i, arm, final === undefined ? style.label : `${style.label} ${(final * 100).toFixed(1)}`));
  });
  parts.push('</svg>');
  return parts.join('\n');
}
