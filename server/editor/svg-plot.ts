// A small loss-against-step plot as standalone SVG, for hovers (as a data URI in markdown). Pure.
import { formatLoss } from './sparkline';

export interface PlotSeries {
  label: string;
  /** [step, value] pairs, in step order. */
  points: [number, number][];
  /** CSS colour; hovers cannot read the theme, so pick colours legible on light and dark. */
  color?: string;
}

export interface PlotOptions {
  width?: number;
  height?: number;
  title?: string;
  /** Log-scale y axis (default: when every value is positive). */
  logY?: boolean;
}

const PALETTE = ['#3794ff', '#f14c4c', '#23d18b', '#e5b95c', '#bc3fbc', '#29b8db'];
const MAX_POINTS = 400;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Keeps at most `max` points, evenly spread, always with the first and the last. */
function thin(points: [number, number][], max: number): [number, number][] {
  if (points.length <= max) return points;
  const out: [number, number][] = [];
  for (let i = 0; i < max; i++) out.push(points[Math.round((i * (points.length - 1)) / (max - 1))]);
  return out;
}

export function lossPlotSvg(series: readonly PlotSeries[], options: PlotOptions = {}): string {
  const width = options.width ?? 320;
  const height = options.height ?? 140;
  const margin = { left: 46, right: 8, top: options.title ? 18 : 6, bottom: 18 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const logY = options.logY ?? (all.length > 0 && all.every(([, y]) => y > 0));
  const fy = (y: number) => (logY ? Math.log10(y) : y);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="${width}" height="${height}" fill="#ffffff" fill-opacity="0.04" stroke="#888888" stroke-opacity="0.4"/>`,
  ];
  if (options.title) parts.push(`<text x="${margin.left}" y="12" fill="#888888">${escapeXml(options.title)}</text>`);
  if (all.length === 0) {
    parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#888888">no data yet</text></svg>`);
    return parts.join('');
  }
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => fy(y));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y1 - y0 < 1e-12) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const px = (x: number) => margin.left + (x1 === x0 ? plotW / 2 : ((x - x0) / (x1 - x0)) * plotW);
  const py = (y: number) => margin.top + (1 - (fy(y) - y0) / (y1 - y0)) * plotH;
  const unY = (v: number) => (logY ? 10 ** v : v);
  // Axes with the extreme values as labels: enough to read a hover plot.
  parts.push(
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" stroke="#888888"/>`,
    `<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="#888888"/>`,
    `<text x="${margin.left - 3}" y="${margin.top + 8}" text-anchor="end" fill="#888888">${formatLoss(unY(y1))}</text>`,
    `<text x="${margin.left - 3}" y="${margin.top + plotH}" text-anchor="end" fill="#888888">${formatLoss(unY(y0))}</text>`,
    `<text x="${margin.left}" y="${height - 4}" fill="#888888">${x0}</text>`,
    `<text x="${margin.left + plotW}" y="${height - 4}" text-anchor="end" fill="#888888">step ${x1}${logY ? ' (log y)' : ''}</text>`,
  );
  series.forEach((s, index) => {
    const points = thin(s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0)), MAX_POINTS);
    if (points.length === 0) return;
    const color = s.color ?? PALETTE[index % PALETTE.length];
    const d = points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${d}"><title>${escapeXml(s.label)}</title></polyline>`);
    if (series.length > 1) {
      parts.push(`<text x="${width - margin.right - 2}" y="${margin.top + 10 + index * 11}" text-anchor="end" fill="${color}">${escapeXml(s.label)}</text>`);
    }
  });
  parts.push('</svg>');
  return parts.join('');
}

export function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}

/** Markdown that shows the plot as an image (VS Code hovers render data: image URIs). */
export function plotMarkdown(svg: string, alt: string): string {
  return `![${alt.replace(/[[\]]/g, '')}](${svgDataUri(svg)})`;
}
