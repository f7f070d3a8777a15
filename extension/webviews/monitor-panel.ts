// Host of the imitation monitor: one panel per run, fed by the run feed (the run's snapshot, then its
// updates) and the experiment's fine-tuning settings; launching fine-tuning writes the edited settings into the experiment file
// (undoable) and starts the finetune stage on the same run.
import * as vscode from 'vscode';
import { FinetuneSettingsRequest, ListRunsRequest, StartStageRequest, StopRequest } from '../../server/protocol';
import { finetuneSettingsEdit } from './experiment-edit';
import { applyTextEdit, errorText, onWebviewMessage, post, setWebviewHtml, webviewOptions, type WebviewHostContext } from './host';

export const MONITOR_VIEW_TYPE = 'gowide.imitationMonitor';
const open = new Map<string, vscode.WebviewPanel>();

export function openImitationMonitor(ctx: WebviewHostContext, runId: string, experimentPath: string): vscode.WebviewPanel {
  const existing = open.get(runId);
  if (existing) {
    existing.reveal();
    return existing;
  }
  const panel = vscode.window.createWebviewPanel(MONITOR_VIEW_TYPE, `Imitation: ${runId}`, vscode.ViewColumn.Active, webviewOptions(ctx));
  restoreImitationMonitor(ctx, panel, runId, experimentPath);
  return panel;
}

export function restoreImitationMonitor(ctx: WebviewHostContext, panel: vscode.WebviewPanel, runId: string, experimentPath: string): void {
  open.set(runId, panel);
  panel.webview.options = webviewOptions(ctx);
  setWebviewHtml(ctx, panel.webview, 'monitor', panel.title);
  const webview = panel.webview;
  let following: { dispose(): void } | undefined;

  // On every 'ready' (a reloaded webview starts empty): the settings, then the run from the feed.
  const load = async (): Promise<void> => {
    following?.dispose();
    following = undefined;
    try {
      // The sidecar resolves the file: the form shows its values, or the defaults where it has none.
      const { fields } = await ctx.sendRequest(FinetuneSettingsRequest, { path: experimentPath });
      post(webview, { type: 'finetuneSettings', fields });
      const run = (await ctx.sendRequest(ListRunsRequest, { experimentPath })).find((r) => r.runId === runId) ?? ctx.feed.tracker.summary(runId);
      if (!run) throw new Error(`it is not among the runs of ${experimentPath}`);
      following = ctx.feed.subscribe(run, (message) => post(webview, message), { phases: ['imitate'] });
    } catch (error) {
      post(webview, { type: 'notice', level: 'error', message: `Could not load run ${runId}: ${errorText(error)}` });
    }
  };

  const subscriptions = [
    { dispose: () => following?.dispose() },
    onWebviewMessage(webview, async (message) => {
      if (message.type === 'ready') return load();
      if (message.type === 'stop') {
        await ctx.sendRequest(StopRequest, { runId });
        return;
      }
      if (message.type !== 'startStage' || message.stage !== 'finetune') return;
      const uri = vscode.Uri.file(experimentPath);
      if (message.settings) {
        const document = await vscode.workspace.openTextDocument(uri);
        const edit = finetuneSettingsEdit(document.getText(), message.settings);
        if (!edit.ok) throw new Error(`Could not write the settings: ${edit.reason}`);
        if (!(await applyTextEdit(uri, edit.edit))) throw new Error('The settings were not written to the experiment file.');
        await (await vscode.workspace.openTextDocument(uri)).save();
      }
      await ctx.sendRequest(StartStageRequest, { experimentPath, stage: 'finetune', runId });
      post(webview, { type: 'notice', level: 'info', message: 'Fine-tuning started.' });
    }),
  ];
  panel.onDidDispose(() => {
    open.delete(runId);
    for (const s of subscriptions) s.dispose();
  });
}
