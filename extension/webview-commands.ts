// Adapter to the webviews built in extension/webviews (another module): loaded when present, with a
// clear message when it is not there yet. The require sits in a try block so the bundle builds either way.
import * as vscode from 'vscode';
import type { WebviewCommands } from './command-context';

interface WebviewModule {
  openWideningConfig?(ctx: unknown, experimentUri: vscode.Uri): unknown;
  openImitationMonitor?(ctx: unknown, runId: string, experimentPath: string): unknown;
  openCompareRuns?(ctx: unknown, experimentPath: string): unknown;
  registerLossView?(ctx: unknown): vscode.Disposable;
}

function loadWebviews(): WebviewModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('./webviews') as WebviewModule;
  } catch {
    return {};
  }
}

async function notAvailable(what: string): Promise<void> {
  await vscode.window.showInformationMessage(`Go Wide: the ${what} is not available in this build yet.`);
}

export function createWebviewCommands(ctx: unknown): WebviewCommands & { registerLossView(): vscode.Disposable | undefined } {
  const module = loadWebviews();
  return {
    async openWideningConfig(experimentPath) {
      if (!module.openWideningConfig) return notAvailable('widening-factor editor');
      await module.openWideningConfig(ctx, vscode.Uri.file(experimentPath));
    },
    async openImitationMonitor(runId, experimentPath) {
      if (!module.openImitationMonitor) return notAvailable('imitation monitor');
      await module.openImitationMonitor(ctx, runId, experimentPath);
    },
    async openCompareRuns(experimentPath) {
      if (!module.openCompareRuns) return notAvailable('run comparison');
      await module.openCompareRuns(ctx, experimentPath);
    },
    registerLossView: () => module.registerLossView?.(ctx),
  };
}
