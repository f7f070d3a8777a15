// The training status bar item (stage and progress of the run in progress) and the context keys
// that enable stage commands for the active experiment editor (gowide.canImitate, ...).
import * as vscode from 'vscode';
import type { RunSummary } from '../server/protocol';
import { isExperimentFile } from './experiment-files';
import { contextKeysFor } from './run-tree-model';
import type { RunTracker } from './run-tracker';

const KEYS_DELAY_MS = 300;

export class TrainingStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('gowide.training', vscode.StatusBarAlignment.Left, -1);
  private readonly disposables: vscode.Disposable[] = [this.item];
  private keysTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly runs: RunTracker,
    private readonly listRuns: (experimentPath: string) => Promise<RunSummary[]>,
  ) {
    this.item.name = 'Go Wide Training';
    this.disposables.push(
      runs.onDidChange(() => {
        this.showProgress();
        this.scheduleKeys();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.scheduleKeys()),
    );
    this.scheduleKeys();
  }

  private showProgress(): void {
    const active = this.runs.active();
    if (active.length === 0) {
      this.item.hide();
      return;
    }
    const run = active[0];
    const progress = this.runs.progressOf(run.runId);
    const where = progress ? (progress.block === undefined ? progress.phase : `${progress.phase} block ${progress.block + 1}`) : 'starting';
    const percent = progress ? ` ${Math.round(progress.fraction * 100)}%` : '';
    this.item.text = `$(sync~spin) ${where}${percent}${active.length > 1 ? ` (+${active.length - 1})` : ''}`;
    this.item.tooltip = `${run.runId}: ${progress?.message ?? run.state}\nClick to open the imitation monitor.`;
    this.item.command = { command: 'gowide.openImitationMonitor', title: 'Open Imitation Monitor', arguments: [{ experimentPath: run.experimentPath, runId: run.runId }] };
    this.item.show();
  }

  private scheduleKeys(): void {
    if (this.keysTimer) clearTimeout(this.keysTimer);
    this.keysTimer = setTimeout(() => void this.updateKeys(), KEYS_DELAY_MS);
  }

  private async updateKeys(): Promise<void> {
    const uri = vscode.window.activeTextEditor?.document.uri;
    let runs: RunSummary[] = [];
    if (uri?.scheme === 'file' && isExperimentFile(uri.fsPath)) {
      try {
        runs = await this.listRuns(uri.fsPath);
      } catch {
        // No sidecar yet: the stages read as not ready; invoking one says why.
      }
    }
    for (const [key, value] of Object.entries(contextKeysFor(runs))) await vscode.commands.executeCommand('setContext', key, value);
  }

  dispose(): void {
    if (this.keysTimer) clearTimeout(this.keysTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
