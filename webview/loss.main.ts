// The sidebar "Loss" view: the selected run's training loss over the whole run, one series per phase.
import { PHASE_NAMES, type MetricRecord, type PhaseName, type RunSummary } from '../server/protocol';
import { alignSeries, lossTimeline } from './lib/runs';
import { clear, el, frameScheduler } from './shared/dom';
import { valueOf } from './shared/elements';
import { LinePlot } from './shared/plot';
import { connectHost } from './shared/vscode-api';
import './shared/base.css';


interface LossState {
  runs: RunSummary[];
  selected?: string;
  records: MetricRecord[];
}

let state: LossState = { runs: [], records: [] };
const schedule = frameScheduler(render);
const host = connectHost<LossState>((message) => {
  switch (message.type) {
    case 'runs':
      state.runs = message.runs;
      if (message.selected !== undefined && message.selected !== state.selected) {
        state.selected = message.selected;
        state.records = [];
      }
      renderPicker();
      break;
    case 'snapshot':
      if (message.run.runId !== state.selected) return;
      state.records = message.records;
      break;
    case 'metrics':
      // New records only: the host's run feed de-duplicates.
      if (message.runId !== state.selected) return;
      state.records = state.records.concat(message.records);
      break;
    case 'reset':
      state.records = [];
      break;
    default:
      return;
  }
  schedule();
});

let plot: LinePlot | undefined;

function renderPicker(): void {
  const picker = document.getElementById('run-picker')!;
  clear(picker);
  for (const run of state.runs) {
    const option = el('vscode-option', { value: run.runId }, `${run.runId} (${run.state})`);
    if (run.runId === state.selected) option.setAttribute('selected', '');
    picker.append(option);
  }
}

function render(): void {
  const empty = document.getElementById('empty')!;
  empty.textContent = state.selected ? '' : 'Select a run (or run an experiment) to see its loss curves.';
  const timeline = lossTimeline(state.records);
  const phases = PHASE_NAMES.filter((p) => timeline.has(p));
  if (phases.length === 0) return;
  const series = phases.map((phase) => ({ label: phase, color: PHASE_NAMES.indexOf(phase) }));
  plot ??= new LinePlot(document.getElementById('plot')!, series, { logY: true, height: 180, xLabel: 'steps, all phases in run order', legend: true, spanGaps: false });
  plot.setData(alignSeries(phases.map((phase) => timeline.get(phase)!)), series);
  document.getElementById('plot')!.setAttribute('data-points', plot.pointCounts().join(','));
}

const picker = el('vscode-single-select', { id: 'run-picker', 'aria-label': 'Run' });
picker.addEventListener('change', () => {
  const runId = valueOf(picker);
  if (runId && runId !== state.selected) host.post({ type: 'selectRun', runId });
});
document.getElementById('app')!.append(picker, el('div', { id: 'empty', class: 'muted' }), el('div', { id: 'plot', class: 'plot' }));
host.post({ type: 'ready' });
