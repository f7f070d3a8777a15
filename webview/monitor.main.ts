// Imitation monitor: one log-scale plot of imitation loss per block, the current block highlighted,
// each block's convergence state with the rule that decided it, overall progress and ETA, and the
// Launch Fine-Tuning form once imitation is done. Live from host messages; restored from setState.
import type { FinetuneSettingKey, MetricRecord, ProgressParams, RunSummary, SettingField } from '../server/protocol';
import { classifyBlock, type Convergence } from './lib/convergence';
import { ImitationCurves, type SavedCurves } from './lib/imitation-curves';
import { fieldLabel, parseSettingFields } from './lib/finetune-settings';
import { blockTitle } from '../server/block-title';
import { alignSeries, imitationCards } from './lib/runs';
import { clear, el, frameScheduler } from './shared/dom';
import { valueOf } from './shared/elements';
import { LinePlot } from './shared/plot';
import { connectHost } from './shared/vscode-api';
import './shared/base.css';

interface MonitorState {
  run?: RunSummary;
  /** The imitation curves, decimated: the plots need nothing else, and state stays small. */
  curves?: SavedCurves;
  /** What versions before the decimated curves saved: every imitation record. */
  records?: MetricRecord[];
  progress?: ProgressParams;
  /** The fine-tuning settings as the sidecar resolved them (values, defaults, ranges), with the user's edits. */
  settingFields?: SettingField[];
}

const saved = connectHostState();
let state: MonitorState = { ...saved.initial };
let curves = new ImitationCurves(state.curves);
if (state.records) curves.add(state.records);
delete state.records;
const host = saved.host;
const plots = new Map<number, LinePlot>();
let snapshotTaken = false;
/** Each card's verdict and what it was computed from, so unchanged blocks are not judged again. */
const verdicts = new Map<number, { finished: boolean; verdict: Convergence }>();
const schedule = frameScheduler(render);

function connectHostState() {
  const h = connectHost<MonitorState>((message) => {
    switch (message.type) {
      case 'run':
        state.run = message.run;
        break;
      case 'snapshot':
        // A later snapshot means the run's records were rewritten (resumed from a checkpoint): start the
        // curves again. The first may repeat what the saved state restored; the curves skip those.
        if (snapshotTaken) {
          curves = new ImitationCurves();
          resetPlots();
        }
        snapshotTaken = true;
        state.run = message.run;
        state.progress = message.progress;
        curves.add(message.records);
        break;
      case 'metrics':
        curves.add(message.records);
        break;
      case 'progress':
        state.progress = message.progress;
        break;
      case 'finetuneSettings':
        state.settingFields = message.fields;
        break;
      case 'reset':
        state = { settingFields: state.settingFields };
        curves = new ImitationCurves();
        resetPlots();
        break;
      case 'notice':
        setText('notice', message.message, message.level === 'error' ? 'notice error' : 'notice muted');
        return;
      default:
        return;
    }
    schedule();
  });
  return { host: h, initial: h.state() };
}

function setText(id: string, text: string, className?: string): void {
  const node = document.getElementById(id);
  if (!node) return;
  node.textContent = text;
  if (className) node.className = className;
}

function resetPlots(): void {
  for (const plot of plots.values()) plot.destroy();
  plots.clear();
  verdicts.clear();
  clear(document.getElementById('blocks')!);
}

const imitateStage = (): RunSummary['stages'][number] | undefined => state.run?.stages.find((s) => s.stage === 'imitate');

function imitationDone(): boolean {
  return imitateStage()?.state === 'done';
}

function currentBlock(): number | undefined {
  if (state.run && state.run.state !== 'running') return undefined;
  if (state.progress?.phase === 'imitate' && state.progress.block !== undefined) return state.progress.block;
  const running = imitateStage()?.blocks?.find((b) => b.state === 'running');
  if (running) return running.index;
  return state.run?.state === 'running' ? curves.lastBlock() : undefined;
}

function blockFinished(block: number, seed: number): boolean {
  if (imitationDone()) return true;
  const listed = imitateStage()?.blocks?.find((b) => b.index === block)?.state;
  if (listed && listed !== 'queued' && listed !== 'running') return true;
  return curves.laterBlockStarted(block, seed);
}

function blockCard(index: number): HTMLElement {
  const existing = document.getElementById(`block-${index}`);
  if (existing) return existing;
  const card = el('section', { id: `block-${index}`, class: 'block', 'data-block': String(index) },
    el('h2', {}, el('span', { class: 'title' }, `Block ${index + 1}`), ' ', el('span', { class: 'state' })),
    el('div', { class: 'plot' }),
    el('div', { class: 'rule' }),
  );
  document.getElementById('blocks')!.append(card);
  return card;
}

function judge(index: number, seed: number | undefined, changed: boolean): Convergence {
  const finished = seed !== undefined && blockFinished(index, seed);
  const known = verdicts.get(index);
  if (known && !changed && known.finished === finished) return known.verdict;
  const verdict = classifyBlock(seed === undefined ? [] : curves.block(index).get(seed)!, finished);
  verdicts.set(index, { finished, verdict });
  return verdict;
}

function renderBlocks(): void {
  const changed = curves.takeChanged();
  const current = currentBlock();
  for (const { index, from } of imitationCards(state.run, curves.blockCount())) {
    const card = blockCard(index);
    card.querySelector('.title')!.textContent = blockTitle({ index, from });
    const bySeed = curves.drawn(index);
    const seeds = [...bySeed.keys()].sort((a, b) => a - b);
    const verdict = judge(index, seeds[seeds.length - 1], changed.has(index));
    card.classList.toggle('current', index === current);
    card.setAttribute('data-state', verdict.state);
    const badge = card.querySelector('.state')!;
    badge.textContent = index === current ? `${verdict.state} (current)` : verdict.state;
    badge.className = `state state-${verdict.state}`;
    const rule = card.querySelector('.rule')!;
    rule.textContent = verdict.rule;
    rule.setAttribute('title', verdict.detail);
    if (seeds.length === 0) continue;
    let plot = plots.get(index);
    if (plot && !changed.has(index)) continue;
    const series = seeds.map((seed, i) => ({ label: `seed ${seed}`, color: i }));
    if (!plot) {
      plot = new LinePlot(card.querySelector('.plot') as HTMLElement, series, { logY: true, height: 120 });
      plots.set(index, plot);
    }
    plot.setData(alignSeries(seeds.map((seed) => bySeed.get(seed)!)), series);
    card.setAttribute('data-points', seeds.map((seed) => curves.block(index).get(seed)!.length).join(','));
  }
}

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function renderProgress(): void {
  const run = state.run;
  const done = run?.state === 'done';
  const fraction = done ? 1 : state.progress?.fraction ?? 0;
  (document.getElementById('progress-fill') as HTMLElement).style.width = `${Math.round(100 * fraction)}%`;
  const eta = !done && state.progress?.etaSeconds !== undefined ? `, about ${formatSeconds(state.progress.etaSeconds)} left` : '';
  const what = done ? 'run finished' : state.progress?.message ?? run?.state ?? 'waiting for the run';
  setText('progress-text', `${Math.round(100 * fraction)}%${eta}: ${what}`);
  setText('title', run ? `Imitation monitor: ${run.runId} (${run.state})` : 'Imitation monitor');
}

function renderLaunchForm(): void {
  const form = document.getElementById('finetune')!;
  const fields = state.settingFields;
  const show = imitationDone() && state.run?.state !== 'running' && fields !== undefined;
  form.hidden = !show;
  if (!show || form.childElementCount > 0) return;
  const inputs = fields.map((field) =>
    el('div', { class: 'field', title: field.description }, el('label', { for: `ft-${field.key}` }, fieldLabel(field)),
      el('vscode-textfield', { id: `ft-${field.key}`, value: String(field.value), 'aria-label': field.label }),
      el('div', { id: `ft-${field.key}-reason`, class: 'error', role: 'alert' })));
  const button = el('vscode-button', { id: 'launch-finetune' }, 'Launch Fine-Tuning');
  button.addEventListener('click', () => {
    const texts = Object.fromEntries(fields.map(({ key }) => [key, valueOf(document.getElementById(`ft-${key}`)!)])) as Record<FinetuneSettingKey, string>;
    const parsed = parseSettingFields(fields, texts);
    for (const { key } of fields) setText(`ft-${key}-reason`, parsed.ok ? '' : parsed.problems[key] ?? '');
    if (!parsed.ok) return;
    state.settingFields = fields.map((field) => ({ ...field, value: parsed.settings[field.key] }));
    host.saveState(state);
    host.post({ type: 'startStage', stage: 'finetune', settings: { ...parsed.settings } });
  });
  form.append(el('h2', {}, 'Imitation is done: fine-tune the thin net'), el('div', { class: 'row' }, ...inputs, button));
}

function render(): void {
  renderProgress();
  renderBlocks();
  renderLaunchForm();
  host.saveState({ ...state, curves: curves.save() });
}

document.getElementById('app')!.append(
  el('h1', { id: 'title' }, 'Imitation monitor'),
  el('div', { id: 'notice', class: 'notice' }),
  el('div', { class: 'progress-track' }, el('div', { id: 'progress-fill', class: 'progress-fill' })),
  el('div', { id: 'progress-text', class: 'muted' }),
  el('div', { id: 'finetune', hidden: '' }),
  el('div', { id: 'blocks', class: 'blocks' }),
);
render();
host.post({ type: 'ready' });
