// The compare panel's curves, in two tabs. Validation accuracy against the thin net's epoch budget
// (win's imitation epochs count), per arm the mean over seeds with a band from the lowest to the
// highest seed, as the evidence study draws it: the arms compare by eye. Training loss against each
// arm's own steps, per seed: how each phase trained (kd's loss includes its distillation term, win's
// starts after imitation), not a comparison.
import type { ArmName, MetricRecord } from '../server/protocol';
import { budgetBands, budgetCurves } from './lib/budget-curves';
import { alignSeries, ARMS, armCurves } from './lib/runs';
import { el } from './shared/dom';
import { LinePlot, type PlotSeries } from './shared/plot';

/** Palette index and dash of each arm, the same in both tabs. */
export const ARM_STYLE: Record<ArmName, { color: number; dash?: number[]; label: string }> = {
  wide: { color: 0, dash: [6, 4], label: 'wide (teacher)' },
  scratch: { color: 1, label: 'scratch' },
  kd: { color: 2, label: 'kd' },
  win: { color: 4, label: 'win (3 stages)' },
  'scratch-steps': { color: 1, dash: [2, 3], label: "scratch, win's steps" },
  'kd-steps': { color: 2, dash: [2, 3], label: "kd, win's steps" },
  'scratch-compute': { color: 3, label: "scratch, win's FLOPs" },
};

const TABS = ['accuracy', 'loss'] as const;

export class CompareCurves {
  readonly element: HTMLElement;
  private accuracyPlot: LinePlot | undefined;
  private lossPlot: LinePlot | undefined;
  private shown: (typeof TABS)[number] = 'accuracy';

  constructor() {
    const tabs = el('vscode-tabs', { id: 'curve-tabs' },
      el('vscode-tab-header', { slot: 'header', 'data-tab': 'accuracy' }, 'Validation accuracy'),
      el('vscode-tab-panel', {},
        el('div', { id: 'accuracy-curves', class: 'plot' }),
        el('div', { class: 'muted' }, 'Validation accuracy after every epoch against the epochs the arm\'s own net trained; ' +
          'win starts at its warm start, after the epochs imitation spent of the thin net\'s budget. Line: mean over seeds; band: lowest to highest seed.')),
      el('vscode-tab-header', { slot: 'header', 'data-tab': 'loss' }, 'Training loss'),
      el('vscode-tab-panel', {},
        el('div', { id: 'loss-curves', class: 'plot' }),
        el('div', { class: 'muted' }, 'Mini-batch training loss against each arm\'s own steps, one line per seed: kd\'s includes its distillation term ' +
          'and win\'s is its fine-tuning only, so the arms do not compare here.')),
    );
    tabs.addEventListener('vsc-tabs-select', (event) => {
      this.shown = TABS[(event as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex] ?? 'accuracy';
    });
    this.element = tabs;
  }

  update(records: readonly MetricRecord[]): void {
    this.drawAccuracy(records);
    this.drawLoss(records);
  }

  /** The canvas of the tab in view (PNG export). */
  canvas(): HTMLCanvasElement | undefined {
    return (this.shown === 'accuracy' ? this.accuracyPlot : this.lossPlot)?.canvas();
  }

  private drawAccuracy(records: readonly MetricRecord[]): void {
    const bands = budgetBands([...budgetCurves(records).values()]);
    const series: PlotSeries[] = [];
    const columns: { step: number; loss: number }[][] = [];
    const counts: string[] = [];
    for (const arm of ARMS) {
      const points = bands[arm];
      if (!points || points.length === 0) continue;
      const { color, dash, label } = ARM_STYLE[arm];
      series.push({ label, color, dash }, { label: `${arm} highest`, color, legend: false }, { label: `${arm} lowest`, color, legend: false });
      columns.push(...(['mean', 'max', 'min'] as const).map((k) => points.map((p) => ({ step: p.epochs, loss: 100 * p[k] }))));
      counts.push(`${arm}:${points.length}`);
    }
    const container = document.getElementById('accuracy-curves')!;
    container.setAttribute('data-points', counts.join(','));
    if (series.length === 0) return;
    this.accuracyPlot ??= new LinePlot(container, series, {
      height: 260, xLabel: 'thin-net epochs', yLabel: 'validation accuracy %', legend: true,
      format: (v) => v.toFixed(1),
      // Each arm is a mean followed by its highest and lowest seed.
      bands: (all) => all.flatMap((s, i) => (s.legend === false && all[i + 1]?.legend === false ? [{ upper: i, lower: i + 1 }] : [])),
    });
    this.accuracyPlot.setData(alignSeries(columns), series);
  }

  private drawLoss(records: readonly MetricRecord[]): void {
    const curves = armCurves(records);
    const series: PlotSeries[] = [];
    const points = [];
    for (const arm of ARMS) {
      const { color } = ARM_STYLE[arm];
      for (const [key, curve] of curves.get(arm)!) {
        series.push({ label: `${arm} ${key}`, color, dash: series.some((s) => s.color === color) ? [4, 3] : undefined });
        points.push(curve);
      }
    }
    if (series.length === 0) return;
    this.lossPlot ??= new LinePlot(document.getElementById('loss-curves')!, series, { logY: true, height: 260, xLabel: "step of the arm's own phase", yLabel: 'training loss', legend: true });
    this.lossPlot.setData(alignSeries(points), series);
  }
}
