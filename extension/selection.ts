// What a command acts on: the explorer item it was invoked on, a code lens target, a URI or path,
// else the active *.gowide.json editor, else a quick pick. No vscode import (duck-typed URIs).
import * as path from 'node:path';
import type { RunSummary } from '../server/protocol';
import { isExperimentFile } from './experiment-files';
import type { Ui } from './ui';

export interface Target {
  experimentPath: string;
  runId?: string;
}

/** Reads a target out of a command argument, or undefined when the argument names none. */
export function targetFromArgument(arg: unknown): Target | undefined {
  if (typeof arg === 'string') {
    const file = arg.startsWith('file:') ? decodeURIComponent(new URL(arg).pathname) : arg;
    return isExperimentFile(file) ? { experimentPath: path.resolve(file) } : undefined;
  }
  if (!arg || typeof arg !== 'object') return undefined;
  const record = arg as Record<string, unknown>;
  // Explorer nodes and lens targets carry experimentPath (and runId); a vscode.Uri has fsPath.
  if (typeof record.experimentPath === 'string') {
    return { experimentPath: record.experimentPath, runId: typeof record.runId === 'string' ? record.runId : undefined };
  }
  if (typeof record.fsPath === 'string' && isExperimentFile(record.fsPath)) return { experimentPath: record.fsPath };
  if (record.uri && typeof record.uri === 'object') return targetFromArgument(record.uri);
  return undefined;
}

export interface SelectionSources {
  ui: Ui;
  findExperiments(): Promise<string[]>;
}

export async function resolveTarget(sources: SelectionSources, arg: unknown, purpose: string): Promise<Target | undefined> {
  const fromArg = targetFromArgument(arg);
  if (fromArg) return fromArg;
  const active = sources.ui.activeEditorPath();
  if (active && isExperimentFile(active)) return { experimentPath: active };
  const files = await sources.findExperiments();
  if (files.length === 0) {
    await sources.ui.warn('Go Wide: no *.gowide.json experiment in this workspace. Create one with "Go Wide: New Experiment".');
    return undefined;
  }
  if (files.length === 1) return { experimentPath: files[0] };
  const chosen = await sources.ui.pick(
    files.map((file) => ({ label: path.basename(file).replace(/\.gowide\.json$/, ''), detail: file, value: file })),
    { title: `Go Wide: ${purpose}`, placeholder: 'Experiment' },
  );
  return chosen ? { experimentPath: chosen } : undefined;
}

/** The run a command acts on: the target's, else a pick among `runs` that pass `filter`. */
export async function resolveRun(
  ui: Ui,
  target: Target,
  runs: readonly RunSummary[],
  purpose: string,
  filter: (run: RunSummary) => boolean = () => true,
): Promise<RunSummary | undefined> {
  if (target.runId) return runs.find((r) => r.runId === target.runId);
  const candidates = runs.filter(filter);
  if (candidates.length === 0) return undefined;
  if (candidates.length === 1) return candidates[0];
  return ui.pick(
    candidates.map((run) => ({ label: run.runId, description: run.state, detail: run.startedAt, value: run })),
    { title: `Go Wide: ${purpose}`, placeholder: 'Run' },
  );
}
