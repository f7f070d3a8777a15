// Adapter from the command table to the webviews built in extension/webviews (another module):
// the command handlers see only WebviewCommands, so they stay testable without VS Code.
import * as vscode from 'vscode';
import type { WebviewCommands } from './command-context';
import {
  openCompareRuns,
  openImitationMonitor,
  openWideningConfig,
  registerLossView,
  registerWebviewSerializers,
  type WebviewHostContext,
} from './webviews';

export interface WebviewRegistration extends WebviewCommands {
  /** The sidebar "Loss" view (gowide.loss) and the panel serializers that restore panels after a reload. */
  register(): vscode.Disposable;
}

export function createWebviewCommands(ctx: WebviewHostContext): WebviewRegistration {
  return {
    async openWideningConfig(experimentPath) {
      openWideningConfig(ctx, vscode.Uri.file(experimentPath));
    },
    async openImitationMonitor(runId, experimentPath) {
      openImitationMonitor(ctx, runId, experimentPath);
    },
    async openCompareRuns(experimentPath) {
      openCompareRuns(ctx, experimentPath);
    },
    register: () => vscode.Disposable.from(registerLossView(ctx), registerWebviewSerializers(ctx)),
  };
}
