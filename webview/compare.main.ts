// Compare runs: a table of test accuracy of each arm (mean, std, per seed), their curves
// (compare-curves.ts: validation accuracy against budget, training loss), under them win minus each
// baseline paired by run and seed, and CSV / PNG export (the host saves the file).
import type { ArmName, MetricRecord, PairName, RunSummary } from '../server/protocol';
import { ARMS, pairedOf, testAccuracies } from './lib/runs';
import { mean, std, toCsv } from './lib/stats';
import { CompareCurves } from './compare-curves';
import { SweepResults } from './sweep-results';
import { clear, el, frameScheduler } from './shared/dom';
import './shared/elements';
import { connectHost } from './shared/vscode-api';
import './shared/base.css';

interface CompareState {
  runs: RunSummary[];
  records: Record<string, MetricRecord[]>;
}

let state: CompareState = { runs: [], records: {} };
const schedule = frameScheduler(render);
const host = connectHost<CompareState>((message) => {
  switch (message.type) {
    case 'runs':
      state.runs = message.runs;
      break;
    case 'run':
    case 'snapshot':
      state.runs = [...state.runs.filter((r) => r.runId !== message.run.runId), message.run];
      if (message.type === 'snapshot') state.records[message.run.runId] = message.records;
      break;
    case 'metrics':
      // New records only: the host's run feed de-duplicates.
      state.records[message.runId] = (state.records[message.runId] ?? []).concat(message.records);
      break;
    case 'reset':
      state = { runs: [], records: {} };
      break;
    case 'sweep':
      // The runs of a sweep differ in the swept field: its own plot compares them point by point.
      sweepResults.update(message.sweep);
      return;
    case 'notice': {
      const notice = document.getElementById('notice')!;
      notice.textContent = message.message;
      notice.className = message.level === 'error' ? 'notice error' : 'notice muted';
      return;
    }
    default:
      return;
  }
  // Enough for the serializer to reopen the panel; records are fetched again.
  host.saveState({ runs: state.runs, records: {} });
  schedule();
});

export interface ArmRow {
  arm: ArmName;
  values: number[];
  mean: number;
  std: number;
}

function armRows(records: MetricRecord[]): ArmRow[] {
  const accuracies = testAccuracies(records);
  return ARMS.map((arm) => {
    const values = accuracies.filter((a) => a.arm === arm).map((a) => a.accuracy);
    return { arm, values, mean: mean(values), std: std(values) };
  }).filter((row) => row.values.length > 0);
}

const percent = (x: number): string => (Number.isFinite(x) ? (100 * x).toFixed(2) : '–');
const points = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`);

/** Win minus each baseline, seed by seed: mean, 95% interval, seeds ahead (points). */
function renderPaired(records: MetricRecord[]): void {
  const paired = pairedOf(testAccuracies(records));
  const table = document.getElementById('paired')!;
  clear(table);
  const pairs = Object.entries(paired) as [PairName, NonNullable<(typeof paired)[PairName]>][];
  if (pairs.length === 0) return;
  table.append(
    el('thead', {}, el('tr', {}, ...['Paired difference', 'Mean (points)', '95% interval', 'Seeds ahead'].map((h) => el('th', {}, h)))),
    el('tbody', {}, ...pairs.map(([name, p]) => el('tr', { 'data-pair': name },
      el('td', {}, name.replace('-', ' − ')), el('td', { class: 'mean' }, points(p.mean)),
      el('td', { class: 'interval' }, p.low === undefined ? 'one seed' : `${points(p.low)} to ${points(p.high)}`),
      el('td', { class: 'ahead' }, `${p.ahead} of ${p.seeds}`)))),
  );
}

function csvOf(rows: ArmRow[]): string {
  return toCsv(['arm', 'seeds', 'mean_accuracy', 'std_accuracy', 'per_seed'],
    rows.map((r) => [r.arm, r.values.length, r.mean.toFixed(4), r.std.toFixed(4), r.values.map((v) => v.toFixed(4)).join(';')]));
}

const curves = new CompareCurves();
const sweepResults = new SweepResults();

function render(): void {
  const records = Object.values(state.records).flat();
  const rows = armRows(records);
  const table = document.getElementById('accuracy')!;
  clear(table);
  table.append(
    el('thead', {}, el('tr', {}, ...['Arm', 'Seeds', 'Mean test acc. %', 'Std %', 'Per seed %'].map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', { 'data-arm': r.arm },
      el('td', {}, r.arm), el('td', {}, String(r.values.length)),
      el('td', { class: 'mean' }, percent(r.mean)), el('td', { class: 'std' }, percent(r.std)),
      el('td', {}, r.values.map(percent).join('  '))))),
  );
  document.getElementById('summary')!.textContent = state.runs.length === 0
    ? 'No runs yet.'
    : `${state.runs.length} run(s): ${state.runs.map((r) => `${r.runId} (${r.state})`).join(', ')}`;

  curves.update(records);
  renderPaired(records);
}

function exportCsv(): void {
  const records = Object.values(state.records).flat();
  host.post({ type: 'export', format: 'csv', data: csvOf(armRows(records)), fileName: 'compare-runs.csv' });
}

function exportPng(): void {
  const canvas = curves.canvas();
  if (!canvas) return;
  host.post({ type: 'export', format: 'png', data: canvas.toDataURL('image/png'), fileName: 'compare-runs.png' });
}

const csvButton = el('vscode-button', { id: 'export-csv', secondary: '' }, 'Export CSV');
const pngButton = el('vscode-button', { id: 'export-png', secondary: '' }, 'Export PNG');
csvButton.addEventListener('click', exportCsv);
pngButton.addEventListener('click', exportPng);
document.getElementById('app')!.append(
  el('h1', {}, 'Compare runs: wide, scratch, kd, win'),
  el('div', { id: 'notice', class: 'notice' }),
  el('div', { id: 'summary', class: 'muted' }),
  el('table', { id: 'accuracy', class: 'data' }),
  el('div', { class: 'row' }, csvButton, pngButton),
  curves.element,
  el('table', { id: 'paired', class: 'data' }),
  sweepResults.element,
);
render();
host.post({ type: 'ready' });
