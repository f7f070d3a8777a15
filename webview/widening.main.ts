// Configure widening factors: the thin net's blocks with thin/wide widths, params, FLOPs and cost.
// Edits go to the host as setFactor; the experiment file stays the source of truth and the host
// answers every change with a fresh netSizes message.
import type { NetSizesResult, StartSweepResult } from '../server/protocol';
import { SweepResults } from './sweep-results';
import { el, clear } from './shared/dom';
import { valueOf } from './shared/elements';
import { connectHost } from './shared/vscode-api';
import { formatCount, parseFactor, parseFactorList, relativeCost, wideWidth } from './lib/widening';
import './shared/base.css';

interface WideningState {
  experimentPath?: string;
  sizes?: NetSizesResult;
  sweep?: StartSweepResult;
}

const root = document.getElementById('app')!;
const host = connectHost<WideningState>((message) => {
  if (message.type === 'netSizes') {
    host.saveState({ ...host.state(), experimentPath: message.experimentPath, sizes: message.sizes });
    render(message.experimentPath, message.sizes);
  } else if (message.type === 'sweep') {
    host.saveState({ ...host.state(), sweep: message.sweep });
    sweepResults.update(message.sweep);
  } else if (message.type === 'notice') {
    showNotice(message.message, message.level === 'error');
  }
});

function showNotice(text: string, isError: boolean): void {
  const notice = document.getElementById('notice');
  if (notice) {
    notice.textContent = text;
    notice.className = isError ? 'notice error' : 'notice muted';
  }
}

/** A factor field that refuses bad input with the reason and posts good input. */
function factorField(id: string, value: number, block: number | 'all', label: string): HTMLElement {
  const field = el('vscode-textfield', { id, class: 'factor-field', value: String(value), 'aria-label': label });
  const reason = el('div', { id: `${id}-reason`, class: 'error', role: 'alert' });
  const submit = (): void => {
    const parsed = parseFactor(valueOf(field));
    if (!parsed.ok) {
      reason.textContent = parsed.reason;
      field.setAttribute('invalid', '');
      return;
    }
    reason.textContent = '';
    field.removeAttribute('invalid');
    host.post({ type: 'setFactor', block, factor: parsed.factor });
  };
  field.addEventListener('change', submit);
  field.addEventListener('keydown', (event) => {
    if ((event as KeyboardEvent).key === 'Enter') submit();
  });
  return el('div', {}, field, reason);
}

/** The sweep form: factors to try, each an ordinary run of the experiment with that factor. */
function sweepForm(factor: number): HTMLElement {
  const field = el('vscode-textfield', { id: 'sweep-factors', value: [factor / 2, factor, factor * 2].filter((f) => f >= 1).join(', '), 'aria-label': 'factors to sweep' });
  const reason = el('div', { id: 'sweep-factors-reason', class: 'error', role: 'alert' });
  const button = el('vscode-button', { id: 'run-sweep' }, 'Run Sweep');
  button.addEventListener('click', () => {
    const parsed = parseFactorList(valueOf(field));
    reason.textContent = parsed.ok ? '' : parsed.reason;
    if (parsed.ok) host.post({ type: 'startSweep', factors: parsed.factors });
  });
  return el('div', { class: 'row' },
    el('div', { class: 'field' }, el('label', { for: 'sweep-factors' }, 'Sweep: factors to try (one run each, written to the file as "sweep")'), field, reason),
    button);
}

const sweepResults = new SweepResults();

function render(experimentPath: string, sizes: NetSizesResult): void {
  clear(root);
  const name = experimentPath.split(/[\\/]/).pop() ?? experimentPath;
  root.append(el('h1', {}, `Widening factors: ${name}`), el('div', { id: 'notice', class: 'notice' }));
  const errors = sizes.problems.filter((p) => p.severity === 'error');
  for (const problem of sizes.problems) {
    root.append(el('div', { class: problem.severity === 'error' ? 'error' : 'muted' }, `${problem.field || 'file'}: ${problem.message}${problem.fix ? ` (${problem.fix})` : ''}`));
  }
  root.append(sweepResults.element);
  if (errors.length > 0 || sizes.blocks.length === 0) return;

  root.append(
    el('p', { class: 'muted' }, `${sizes.family}, ${sizes.blocks.length} blocks, widen mode "${sizes.mode}". Factors apply to the width each block widens.`),
    el('div', { class: 'row' },
      el('div', { class: 'field' }, el('label', { for: 'factor-all' }, 'Factor for all blocks'), factorField('factor-all', sizes.factor, 'all', 'factor for all blocks'))),
    sweepForm(sizes.factor),
  );

  const header = el('tr', {}, ...['Block', 'Thin width', 'Factor', 'Wide width', 'Thin params', 'Wide params', 'Thin FLOPs', 'Wide FLOPs', 'Cost'].map((h) => el('th', {}, h)));
  const rows = sizes.blocks.map((block) =>
    el('tr', { 'data-block': String(block.index) },
      el('td', {}, `block ${block.index + 1}`),
      el('td', { class: 'thin-width' }, String(block.thinWidth)),
      el('td', {}, factorField(`factor-${block.index}`, block.factor, block.index, `factor of block ${block.index + 1}`)),
      el('td', { class: 'wide-width' }, String(wideWidth(block.thinWidth, block.factor))),
      el('td', { class: 'thin-params' }, formatCount(block.thin.params)),
      el('td', { class: 'wide-params' }, formatCount(block.wide.params)),
      el('td', {}, formatCount(block.thin.flops)),
      el('td', {}, formatCount(block.wide.flops)),
      el('td', { class: 'cost' }, `${relativeCost(block.thin.flops, block.wide.flops).toFixed(1)}x`),
    ),
  );
  const cost = relativeCost(sizes.thin.flops, sizes.wide.flops);
  const total = el('tr', { class: 'total' },
    el('td', {}, 'whole net'), el('td', {}), el('td', {}), el('td', {}),
    el('td', { id: 'thin-params-total' }, formatCount(sizes.thin.params)),
    el('td', { id: 'wide-params-total' }, formatCount(sizes.wide.params)),
    el('td', {}, formatCount(sizes.thin.flops)),
    el('td', {}, formatCount(sizes.wide.flops)),
    el('td', { id: 'cost-total' }, `${cost.toFixed(1)}x`),
  );
  root.append(
    el('table', { class: 'data', id: 'blocks' }, el('thead', {}, header), el('tbody', {}, ...rows, total)),
    el('p', { id: 'cost-summary' }, `Estimated cost: training the wide net takes about ${cost.toFixed(1)}x the time of the thin net per example (ratio of FLOPs), with ${(sizes.wide.params / Math.max(1, sizes.thin.params)).toFixed(1)}x the parameters.`),
  );
}

const saved = host.state();
if (saved.sweep) sweepResults.update(saved.sweep);
if (saved.sizes && saved.experimentPath) render(saved.experimentPath, saved.sizes);
else root.append(el('p', { class: 'muted' }, 'Reading the experiment…'));
host.post({ type: 'ready' });
