// A sweep's results in a view (widening, compare runs): every arm's test accuracy against the swept
// value in one plot, and a table of each point's accuracies and cost (wide-net params and FLOPs, seconds).
import type { StartSweepResult } from '../server/protocol';
import { ARM_STYLE } from './compare-curves';
import { formatCount } from './lib/widening';
import { sweepView } from './lib/sweep-view';
import { clear, el } from './shared/dom';
import { LinePlot } from './shared/plot';

export class SweepResults {
  readonly element = el('div', { id: 'sweep-results' });
  private plot: LinePlot | undefined;

  update(result: StartSweepResult): void {
    this.plot?.destroy();
    clear(this.element);
    const view = sweepView(result);
    const plot = el('div', { id: 'sweep-plot', class: 'plot' });
    const header = el('tr', {}, ...[view.field, ...view.arms.map((arm) => ARM_STYLE[arm].label), 'wide params', 'wide FLOPs', 'seconds (all arms)', 'state'].map((h) => el('th', {}, h)));
    const rows = view.rows.map((row) => el('tr', { 'data-point': row.label },
      el('td', {}, row.label),
      ...view.arms.map((arm) => el('td', { class: `accuracy-${arm}` }, row.accuracy[arm] === undefined ? '-' : `${(row.accuracy[arm]! * 100).toFixed(1)}%`)),
      el('td', {}, row.wideParams === undefined ? '-' : formatCount(row.wideParams)),
      el('td', {}, row.wideFlops === undefined ? '-' : formatCount(row.wideFlops)),
      el('td', {}, row.seconds === undefined ? '-' : row.seconds.toFixed(1)),
      el('td', {}, row.state)));
    this.element.append(el('h2', {}, `Sweep ${result.sweepId}: test accuracy against ${view.field}`), plot, el('table', { class: 'data', id: 'sweep-table' }, el('thead', {}, header), el('tbody', {}, ...rows)));
    this.plot = new LinePlot(plot, [], { height: 240, xLabel: view.field, yLabel: 'test accuracy (%)', legend: true });
    this.plot.setData(
      [view.xs, ...view.arms.map((arm) => view.rows.map((row) => (row.accuracy[arm] === undefined ? null : row.accuracy[arm]! * 100)))],
      view.arms.map((arm) => ({ label: ARM_STYLE[arm].label, color: ARM_STYLE[arm].color, ...(ARM_STYLE[arm].dash ? { dash: ARM_STYLE[arm].dash } : {}) })),
    );
  }
}
