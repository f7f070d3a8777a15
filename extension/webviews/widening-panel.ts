// Host of the widening-factor panel: one panel per experiment file, re-rendered whenever the file
// changes (it is the source of truth); factor edits become WorkspaceEdits, so undo works.
import * as vscode from 'vscode';
import { NetSizesRequest, StartSweepRequest, SweepResultsRequest, type NetSizesResult, type StartSweepResult } from '../../server/protocol';
import { replaceSection, setFactorEdit } from './experiment-edit';
import { applyTextEdit, errorText, onWebviewMessage, post, setWebviewHtml, webviewOptions, type WebviewHostContext } from './host';

export const WIDENING_VIEW_TYPE = 'gowide.widening';
const open = new Map<string, vscode.WebviewPanel>();
const SWEEP_POLL_MS = 5000;

/** Whether a point of the sweep may still change (running, or not started yet). */
const sweepInProgress = (sweep: StartSweepResult) => sweep.points.some((p) => p.summary === undefined || p.summary.state === 'running' || p.summary.state === 'queued');

export function openWideningConfig(ctx: WebviewHostContext, experimentUri: vscode.Uri): vscode.WebviewPanel {
  const existing = open.get(experimentUri.toString());
  if (existing) {
    existing.reveal();
    return existing;
  }
  const name = experimentUri.path.split('/').pop() ?? 'experiment';
  const panel = vscode.window.createWebviewPanel(WIDENING_VIEW_TYPE, `Widening: ${name}`, vscode.ViewColumn.Beside, webviewOptions(ctx));
  restoreWideningPanel(ctx, panel, experimentUri);
  return panel;
}

export function restoreWideningPanel(ctx: WebviewHostContext, panel: vscode.WebviewPanel, experimentUri: vscode.Uri): void {
  const key = experimentUri.toString();
  open.set(key, panel);
  panel.webview.options = webviewOptions(ctx);
  setWebviewHtml(ctx, panel.webview, 'widening', panel.title);
  let latest: NetSizesResult | undefined;
  let version = 0;

  const refresh = async (): Promise<void> => {
    const mine = ++version;
    try {
      const document = await vscode.workspace.openTextDocument(experimentUri);
      const sizes = await ctx.sendRequest(NetSizesRequest, { path: experimentUri.fsPath, text: document.getText() });
      if (mine !== version) return;
      latest = sizes;
      post(panel.webview, { type: 'netSizes', experimentPath: experimentUri.fsPath, sizes });
    } catch (error) {
      post(panel.webview, { type: 'notice', level: 'error', message: `Could not size the nets: ${errorText(error)}` });
    }
    await refreshSweep();
  };

  /** The newest sweep's results; asked again every few seconds while a point runs or waits. */
  let sweepTimer: NodeJS.Timeout | undefined;
  const refreshSweep = async (): Promise<void> => {
    clearTimeout(sweepTimer);
    try {
      const sweep = await ctx.sendRequest(SweepResultsRequest, { experimentPath: experimentUri.fsPath });
      if (!sweep) return;
      post(panel.webview, { type: 'sweep', sweep });
      if (sweepInProgress(sweep)) sweepTimer = setTimeout(() => void refreshSweep(), SWEEP_POLL_MS);
    } catch (error) {
      post(panel.webview, { type: 'notice', level: 'error', message: `Could not read the sweep: ${errorText(error)}` });
    }
  };

  /** The file gets the sweep (so it is recorded and resumable like any run), then the sidecar runs it. */
  const startSweep = async (factors: number[]): Promise<void> => {
    try {
      const document = await vscode.workspace.openTextDocument(experimentUri);
      const result = replaceSection(document.getText(), 'sweep', { 'widen.factor': factors });
      if (!result.ok) throw new Error(result.reason);
      if (!(await applyTextEdit(experimentUri, result.edit))) throw new Error('The sweep was not written to the experiment file (is it read-only?).');
      await (await vscode.workspace.openTextDocument(experimentUri)).save();
      const started = await ctx.sendRequest(StartSweepRequest, { experimentPath: experimentUri.fsPath, wait: false });
      void refreshSweep();
      post(panel.webview, { type: 'notice', level: 'info', message: `Sweep started: ${started.points.length} runs (widen.factor ${factors.join(', ')}), listed in ${started.sweepDir}` });
    } catch (error) {
      post(panel.webview, { type: 'notice', level: 'error', message: `Could not start the sweep: ${errorText(error)}` });
    }
  };

  let timer: NodeJS.Timeout | undefined;
  const subscriptions = [
    vscode.workspace.onDidChangeTextDocument((event) => {
      if (event.document.uri.toString() !== key) return;
      clearTimeout(timer);
      timer = setTimeout(() => void refresh(), 300);
    }),
    onWebviewMessage(panel.webview, async (message) => {
      if (message.type === 'ready') return refresh();
      if (message.type === 'startSweep') return startSweep(message.factors);
      if (message.type !== 'setFactor') return;
      const document = await vscode.workspace.openTextDocument(experimentUri);
      const depth = latest?.blocks.length ?? 0;
      const result = setFactorEdit(document.getText(), message.block, message.factor, depth);
      if (!result.ok) {
        post(panel.webview, { type: 'notice', level: 'error', message: result.reason });
        return;
      }
      if (!(await applyTextEdit(experimentUri, result.edit))) {
        post(panel.webview, { type: 'notice', level: 'error', message: 'The edit was not applied (is the file read-only?).' });
      }
    }),
  ];
  panel.onDidDispose(() => {
    clearTimeout(timer);
    clearTimeout(sweepTimer);
    open.delete(key);
    for (const s of subscriptions) s.dispose();
  });
}
