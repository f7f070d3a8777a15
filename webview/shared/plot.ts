// A small uPlot line chart with theme colours, a log-scale option and resize with its container.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { axisColors, seriesColors } from './theme';

export interface PlotSeries {
  label: string;
  /** Index into the theme palette. */
  color: number;
  dash?: number[];
}

export interface LinePlotOptions {
  logY?: boolean;
  height: number;
  xLabel?: string;
  yLabel?: string;
  legend?: boolean;
}

export class LinePlot {
  private chart: uPlot | undefined;
  private readonly resizeObserver: ResizeObserver;

  constructor(private readonly container: HTMLElement, private series: PlotSeries[], private readonly options: LinePlotOptions) {
    this.resizeObserver = new ResizeObserver(() => this.chart?.setSize({ width: this.width(), height: options.height }));
    this.resizeObserver.observe(container);
  }

  /** Replaces the data; rebuilds the chart when the series change. */
  setData(data: uPlot.AlignedData, series: PlotSeries[] = this.series): void {
    const changed = series.length !== this.series.length || series.some((s, i) => s.label !== this.series[i]?.label);
    this.series = series;
    if (!this.chart || changed) {
      this.chart?.destroy();
      this.chart = new uPlot(this.chartOptions(), data, this.container);
    } else {
      this.chart.setData(data);
    }
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
    this.chart?.destroy();
  }

  private width(): number {
    return Math.max(160, this.container.clientWidth);
  }

  private chartOptions(): uPlot.Options {
    const colors = seriesColors();
    const axis = axisColors();
    const axisStyle = { stroke: axis.text, grid: { stroke: axis.grid, width: 1 }, ticks: { stroke: axis.grid, width: 1 } };
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
        { label: this.options.xLabel ?? 'step' },
        ...this.series.map((s) => ({
          label: s.label,
          stroke: colors[s.color % colors.length],
          width: 1.5,
          dash: s.dash,
          spanGaps: true,
          points: { show: false },
        })),
      ],
    };
  }
}
