// Host of the compare-runs panel: every run of an experiment, each followed through the run feed
// (snapshot, then updates), runs started later included; saves the CSV / PNG the webview exports.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ListRunsRequest, SweepResultsRequest, type RunSummary } from '../../server/protocol';
import { errorText, onWebviewMessage, post, setWebviewHtml, webviewOptions, type WebviewHostContext } from './host';
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
  const following = new Map<string, { dispose(): void }>();
  const follow = (run: RunSummary): void => {
    // The panel shows run states and records, not progress.
    if (!following.has(run.runId)) following.set(run.runId, ctx.feed.subscribe(run, (message) => message.type !== 'progress' && post(webview, message)));
  };
  const unfollowAll = (): void => {
    for (const subscription of following.values()) subscription.dispose();
    following.clear();
  };

  // On every 'ready' (a reloaded webview starts empty): the list, then each run's snapshot.
  const load = async (): Promise<void> => {
    unfollowAll();
    try {
      const runs = await ctx.sendRequest(ListRunsRequest, { experimentPath });
      post(webview, { type: 'reset' });
      post(webview, { type: 'runs', runs });
      for (const run of runs) follow(run);
    } catch (error) {
      post(webview, { type: 'notice', level: 'error', message: `Could not load the runs: ${errorText(error)}` });
    }
    await loadSweep();
  };

  /** The experiment's newest sweep, if it has one: again whenever one of its runs ends. */
  const loadSweep = async (): Promise<void> => {
    try {
      const sweep = await ctx.sendRequest(SweepResultsRequest, { experimentPath });
      if (sweep) post(webview, { type: 'sweep', sweep });
    } catch (error) {
      post(webview, { type: 'notice', level: 'error', message: `Could not read the sweep: ${errorText(error)}` });
    }
  };

  const subscriptions = [
    // A run of this experiment started after the panel opened: follow it too.
    ctx.feed.onRunState((run) => {
      if (path.resolve(run.experimentPath) !== path.resolve(experimentPath)) return;
      follow(run);
      if (run.state !== 'running' && run.state !== 'queued') void loadSweep();
    }),
    { dispose: unfollowAll },
    onWebviewMessage(webview, async (message) => {
      if (message.type === 'ready') return load();
      if (message.type !== 'export') return;
      const saved = await saveExport(message.format, message.data, message.fileName ?? `compare-runs.${message.format}`, vscode.Uri.file(path.dirname(experimentPath)));
      if (saved) post(webview, { type: 'notice', level: 'info', message: `Saved ${saved.fsPath}` });
    }),
  ];
  panel.onDidDispose(() => {
    open.delete(experimentPath);
    for (const s of subscriptions) s.dispose();
  });
}
