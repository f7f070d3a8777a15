// Host of the compare-runs panel: every run of an experiment with its metrics; live updates; saves
// the CSV / PNG the webview exports.
import * as vscode from 'vscode';
import { GetMetricsRequest, ListRunsRequest } from '../../server/protocol';
import { errorText, onWebviewMessage, post, setWebviewHtml, webviewOptions, type WebviewHostContext } from './host';
import { listenToRuns } from './run-events';
import { saveExport } from './save-export';

export const COMPARE_VIEW_TYPE = 'gowide.compareRuns';
const open = new Map<string, vscode.WebviewPanel>();

export function openCompareRuns(ctx: WebviewHostContext, experimentPath: string): vscode.WebviewPanel {
  const existing = open.get(experimentPath);
  if (existing) {
    existing.reveal();
    return existing;
  }
  const name = experimentPath.split(/[\\/]/).pop() ?? experimentPath;
  const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, `Compare: ${name}`, vscode.ViewColumn.Active, webviewOptions(ctx));
  restoreCompareRuns(ctx, panel, experimentPath);
  return panel;
}

export function restoreCompareRuns(ctx: WebviewHostContext, panel: vscode.WebviewPanel, experimentPath: string): void {
  open.set(experimentPath, panel);
  panel.webview.options = webviewOptions(ctx);
  setWebviewHtml(ctx, panel.webview, 'compare', panel.title);
  const webview = panel.webview;
  const runIds = new Set<string>();

  const load = async (): Promise<void> => {
    try {
      const runs = await ctx.sendRequest(ListRunsRequest, { experimentPath });
      post(webview, { type: 'reset' });
      post(webview, { type: 'runs', runs });
      for (const run of runs) {
        runIds.add(run.runId);
        const records = await ctx.sendRequest(GetMetricsRequest, { runId: run.runId, runsDir: run.runDir.replace(/[\\/][^\\/]+[\\/]?$/, '') });
        post(webview, { type: 'metrics', runId: run.runId, records });
      }
    } catch (error) {
      post(webview, { type: 'notice', level: 'error', message: `Could not load the runs: ${errorText(error)}` });
    }
  };

  const subscriptions = [
    listenToRuns(ctx, {
      onMetrics: (p) => runIds.has(p.runId) && post(webview, { type: 'metrics', runId: p.runId, records: p.records }),
      onRun: (run) => {
        if (run.experimentPath !== experimentPath) return;
        runIds.add(run.runId);
        post(webview, { type: 'run', run });
      },
    }),
    onWebviewMessage(webview, async (message) => {
      if (message.type === 'ready') return load();
      if (message.type !== 'export') return;
      const saved = await saveExport(message.format, message.data, message.fileName ?? `compare-runs.${message.format}`, vscode.Uri.file(experimentPath.replace(/[\\/][^\\/]+$/, '')));
      if (saved) post(webview, { type: 'notice', level: 'info', message: `Saved ${saved.fsPath}` });
    }),
  ];
  panel.onDidDispose(() => {
    open.delete(experimentPath);
    for (const s of subscriptions) s.dispose();
  });
}
