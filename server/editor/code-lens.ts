// Code lenses above each stage key of an experiment (wide, imitate, finetune, baselines): the stage's
// state and latest figure in the newest run, and Run or Stop. The commands are the extension's.
import type { CodeLens, Range } from 'vscode-languageserver';
import { parseJsonText } from '../experiment';
import { BASELINE_NAMES, type PhaseName, type RunSummary, type StageName } from '../protocol';
import { isActive, PHASE_LABELS, stageFigure, stageOf } from './run-figures';
import { toPosition } from './text-ranges';

/** Command ids the extension registers (package.json contributes them). */
export const STAGE_COMMANDS: Record<StageName, string> = {
  wide: 'gowide.trainWide',
  imitate: 'gowide.startImitation',
  finetune: 'gowide.launchFinetune',
  baselines: 'gowide.trainBaselines',
  all: 'gowide.runAll',
};

const STAGE_KEYS: { key: string; stage: StageName; phases: PhaseName[] }[] = [
  { key: 'wide', stage: 'wide', phases: ['wide'] },
  { key: 'imitate', stage: 'imitate', phases: ['imitate'] },
  { key: 'finetune', stage: 'finetune', phases: ['finetune'] },
  { key: 'baselines', stage: 'baselines', phases: [...BASELINE_NAMES] },
];

const STATE_ICONS: Record<string, string> = {
  queued: '$(clock)',
  running: '$(sync~spin)',
  stopped: '$(debug-pause)',
  failed: '$(error)',
  done: '$(pass)',
};

/** Arguments the extension's commands accept from a lens (plain JSON, as LSP requires). */
export interface LensTarget {
  experimentPath: string;
  runId?: string;
}

function lens(range: Range, title: string, command = '', args: unknown[] = []): CodeLens {
  return { range, command: { title, command, arguments: args } };
}

export function experimentCodeLenses(text: string, experimentPath: string, latest: RunSummary | undefined): CodeLens[] {
  const parsed = parseJsonText(text);
  const top = parsed.locations.get('name') ?? parsed.locations.get('') ?? { line: 1, column: 1, offset: 0 };
  const topRange: Range = { start: toPosition(top), end: toPosition(top) };
  const target: LensTarget = { experimentPath };
  const lenses: CodeLens[] = [];
  if (latest && isActive(latest.state)) {
    lenses.push(lens(topRange, `$(sync~spin) ${latest.runId} is running`, 'gowide.openImitationMonitor', [{ ...target, runId: latest.runId }]));
    lenses.push(lens(topRange, '$(debug-stop) Stop', 'gowide.stop', [{ ...target, runId: latest.runId }]));
  } else {
    lenses.push(lens(topRange, '$(run-all) Run All Stages', STAGE_COMMANDS.all, [target]));
  }
  for (const { key, stage, phases } of STAGE_KEYS) {
    const at = parsed.locations.get(key);
    if (!at) continue;
    const range: Range = { start: toPosition(at), end: toPosition(at) };
    const statuses = phases.map((p) => stageOf(latest, p)).filter((s) => s !== undefined);
    for (const status of statuses) {
      const figure = stageFigure(status);
      const label = phases.length > 1 ? `${PHASE_LABELS[status.stage]}: ` : '';
      const title = `${STATE_ICONS[status.state] ?? ''} ${label}${status.state}${figure ? ` · ${figure}` : ''}`.trim();
      const open = status.stage === 'imitate' ? 'gowide.openImitationMonitor' : status.state === 'done' ? 'gowide.compareRuns' : '';
      lenses.push(lens(range, title, open, open ? [{ ...target, runId: latest!.runId }] : []));
    }
    const running = statuses.some((s) => s.state === 'running') && latest && isActive(latest.state);
    if (running) lenses.push(lens(range, '$(debug-stop) Stop', 'gowide.stop', [{ ...target, runId: latest!.runId }]));
    else lenses.push(lens(range, `$(play) Run ${stage === 'baselines' ? 'baselines' : PHASE_LABELS[stage as PhaseName].toLowerCase()}`, STAGE_COMMANDS[stage], [target]));
  }
  return lenses;
}
