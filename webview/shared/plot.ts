// A small uPlot line chart with theme colours, a log-scale option, bands between two series and
// resize with its container. The legend shows each series' last value until the cursor points at one.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { axisColors, seriesColors, withAlpha } from './theme';

export interface PlotSeries {
  label: string;
  /** Index into the theme palette. */
  color: number;
  dash?: number[];
  /** false: an edge of a band, drawn faintly and left out of the legend. */
  legend?: boolean;
}

export interface LinePlotOptions {
  logY?: boolean;
  height: number;
  xLabel?: string;
  yLabel?: string;
  legend?: boolean;
  /** Join a series' points across the x values where it has none (default true); false leaves gaps
   *  where other series' points are, e.g. between the stretches of one phase on a run's time line. */
  spanGaps?: boolean;
  /** How the legend writes a value (default: 3 significant digits). */
  format?: (value: number) => string;
  /** Areas filled between two series (indices into the series), in the upper one's colour. */
  bands?: (series: readonly PlotSeries[]) => { upper: number; lower: number }[];
}

const defaultFormat = (value: number): string => value.toPrecision(3);

/** The last drawn value of a data column. */
function lastValue(column: readonly (number | null | undefined)[]): number | undefined {
  for (let i = column.length - 1; i >= 0; i--) {
    const v = column[i];
    if (v !== null && v !== undefined && Number.isFinite(v)) return v;
  }
  return undefined;
}

export class LinePlot {
  private chart: uPlot | undefined;
  private readonly resizeObserver: ResizeObserver;
  /** The colours are read when the chart is built: a theme switch (VS Code rewrites the --vscode-*
   *  variables on <html> and the theme class on <body>) builds it again. */
  private readonly themeObserver: MutationObserver;

  constructor(private readonly container: HTMLElement, private series: PlotSeries[], private readonly options: LinePlotOptions) {
    this.resizeObserver = new ResizeObserver(() => this.chart?.setSize({ width: this.width(), height: options.height }));
    this.resizeObserver.observe(container);
    this.themeObserver = new MutationObserver(() => this.chart && this.build(this.chart.data));
    this.themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
    this.themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  /** Replaces the data; rebuilds the chart when the series change. */
  setData(data: uPlot.AlignedData, series: PlotSeries[] = this.series): void {
    const changed = series.length !== this.series.length || series.some((s, i) => s.label !== this.series[i]?.label);
    this.series = series;
    if (!this.chart || changed) this.build(data);
    else this.chart.setData(data);
  }

  /** Points drawn per series (test and accessibility hook). */
  pointCounts(): number[] {
    const data = this.chart?.data ?? [];
    return data.slice(1).map((column) => (column as (number | null | undefined)[]).filter((v) => v !== null && v !== undefined).length);
  }

  canvas(): HTMLCanvasElement | undefined {
    return this.container.querySelector('canvas') ?? undefined;
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.themeObserver.disconnect();
    this.chart?.destroy();
  }

  private width(): number {
    return Math.max(160, this.container.clientWidth);
  }

  private build(data: uPlot.AlignedData): void {
    this.chart?.destroy();
    this.chart = new uPlot(this.chartOptions(), data, this.container);
    this.trimLegend();
  }

  /** The legend lists the series, not the x value (the axis names it) nor the edges of bands. */
  private trimLegend(): void {
    const rows = this.container.querySelectorAll<HTMLElement>('.u-legend .u-series');
    if (rows[0]) rows[0].style.display = 'none';
    this.series.forEach((s, i) => {
      if (s.legend === false && rows[i + 1]) rows[i + 1].style.display = 'none';
    });
  }

  private chartOptions(): uPlot.Options {
    const colors = seriesColors();
    const colorOf = (s: PlotSeries) => colors[s.color % colors.length];
    const axis = axisColors();
    const axisStyle = { stroke: axis.text, grid: { stroke: axis.grid, width: 1 }, ticks: { stroke: axis.grid, width: 1 } };
    const format = this.options.format ?? defaultFormat;
    // Off the plot the cursor has no index: then the last value, where uPlot would write "--".
    const value = (u: uPlot, v: number | null, seriesIndex: number, index: number | null): string => {
      const shown = index === null ? lastValue(u.data[seriesIndex] as (number | null)[]) : v;
      return shown === null || shown === undefined ? '' : format(shown);
    };
    return {
      width: this.width(),
      height: this.options.height,
      legend: { show: this.options.legend ?? false },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false }, y: this.options.logY ? { distr: 3 } : {} },
      axes: [
        { ...axisStyle, label: this.options.xLabel },
        { ...axisStyle, label: this.options.yLabel, size: 50 },
      ],
      series: [
        { label: this.options.xLabel ?? 'step', value: (_u, v) => (v === null ? '' : String(+v.toFixed(2))) },
        ...this.series.map((s) => ({
          label: s.label,
          stroke: s.legend === false ? withAlpha(colorOf(s), 0.35) : colorOf(s),
          width: s.legend === false ? 0.75 : 1.5,
          dash: s.dash,
          spanGaps: this.options.spanGaps ?? true,
          points: { show: false },
          value,
        })),
      ],
      bands: (this.options.bands?.(this.series) ?? []).map(({ upper, lower }) => ({
        series: [upper + 1, lower + 1] as [number, number],
        fill: withAlpha(colorOf(this.series[upper]), 0.15),
      })),
    };
  }
}
