// Host of the imitation monitor: one panel per run, fed the run's summary and metrics, then live
// notifications; launching fine-tuning writes the edited settings into the experiment file
// (undoable) and starts the finetune stage on the same run.
import * as vscode from 'vscode';
import { FinetuneSettingsRequest, GetMetricsRequest, ListRunsRequest, StartStageRequest, StopRequest } from '../../server/protocol';
import { finetuneSettingsEdit } from './experiment-edit';
import { applyTextEdit, errorText, onWebviewMessage, post, setWebviewHtml, webviewOptions, type WebviewHostContext } from './host';
import { listenToRuns } from './run-events';

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
  let lastSeq = -1;

  const load = async (): Promise<void> => {
    try {
      const runs = await ctx.sendRequest(ListRunsRequest, { experimentPath });
      const run = runs.find((r) => r.runId === runId);
      if (run) post(webview, { type: 'run', run });
      // The sidecar resolves the file: the form shows its values, or the defaults where it has none.
      const { fields } = await ctx.sendRequest(FinetuneSettingsRequest, { path: experimentPath });
      post(webview, { type: 'finetuneSettings', fields });
      const records = await ctx.sendRequest(GetMetricsRequest, { runId, runsDir: run ? parentOf(run.runDir) : undefined });
      lastSeq = records.reduce((m, r) => Math.max(m, r.seq), lastSeq);
      post(webview, { type: 'metrics', runId, records });
    } catch (error) {
      post(webview, { type: 'notice', level: 'error', message: `Could not load run ${runId}: ${errorText(error)}` });
    }
  };

  const subscriptions = [
    listenToRuns(ctx, {
      onMetrics: (p) => {
        if (p.runId !== runId) return;
        lastSeq = p.records.reduce((m, r) => Math.max(m, r.seq), lastSeq);
        post(webview, { type: 'metrics', runId, records: p.records });
      },
      onRun: (run) => run.runId === runId && post(webview, { type: 'run', run }),
      onProgress: (progress) => progress.runId === runId && post(webview, { type: 'progress', progress }),
    }),
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

function parentOf(path: string): string {
  return path.replace(/[\\/][^\\/]+[\\/]?$/, '');
}
