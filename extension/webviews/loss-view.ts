// The "Loss" sidebar view (gowide.loss): the selected run's curves. The run comes from the view's
// own picker, or from the command gowide.loss.showRun (runId, experimentPath?) the explorer can call.
import * as vscode from 'vscode';
import { GetMetricsRequest, ListRunsRequest, type RunSummary } from '../../server/protocol';
import { errorText, onWebviewMessage, post, setWebviewHtml, webviewOptions, type WebviewHostContext } from './host';
import { listenToRuns } from './run-events';

export const LOSS_VIEW_ID = 'gowide.loss';
export const SHOW_RUN_COMMAND = 'gowide.loss.showRun';

class LossViewProvider implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private runs: RunSummary[] = [];
  private selected: string | undefined;

  constructor(private readonly ctx: WebviewHostContext) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.ctx);
    setWebviewHtml(this.ctx, view.webview, 'loss', 'Loss');
    const subscriptions = [
      listenToRuns(this.ctx, {
        onMetrics: (p) => p.runId === this.selected && post(view.webview, { type: 'metrics', runId: p.runId, records: p.records }),
        onRun: (run) => {
          if (!this.runs.some((r) => r.runId === run.runId)) this.selected ??= run.runId;
          this.runs = [run, ...this.runs.filter((r) => r.runId !== run.runId)];
          post(view.webview, { type: 'runs', runs: this.runs, selected: this.selected });
        },
      }),
      onWebviewMessage(view.webview, async (message) => {
        if (message.type === 'ready') return this.load();
        if (message.type === 'selectRun') return this.showRun(message.runId);
      }),
    ];
    view.onDidDispose(() => {
      this.view = undefined;
      for (const s of subscriptions) s.dispose();
    });
  }

  async showRun(runId: string): Promise<void> {
    this.selected = runId;
    const view = this.view;
    if (!view) return;
    post(view.webview, { type: 'runs', runs: this.runs, selected: runId });
    try {
      const run = this.runs.find((r) => r.runId === runId);
      const records = await this.ctx.sendRequest(GetMetricsRequest, { runId, runsDir: run ? run.runDir.replace(/[\\/][^\\/]+[\\/]?$/, '') : undefined });
      if (this.selected === runId) post(view.webview, { type: 'metrics', runId, records });
    } catch (error) {
      post(view.webview, { type: 'notice', level: 'error', message: `Could not load ${runId}: ${errorText(error)}` });
    }
  }

  private async load(): Promise<void> {
    try {
      this.runs = (await this.ctx.sendRequest(ListRunsRequest, {})).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    } catch (error) {
      this.runs = [];
      if (this.view) post(this.view.webview, { type: 'notice', level: 'error', message: errorText(error) });
    }
    const selected = this.selected ?? this.runs[0]?.runId;
    if (selected) await this.showRun(selected);
    else if (this.view) post(this.view.webview, { type: 'runs', runs: this.runs });
  }
}

export function registerLossView(ctx: WebviewHostContext): vscode.Disposable {
  const provider = new LossViewProvider(ctx);
  return vscode.Disposable.from(
    vscode.window.registerWebviewViewProvider(LOSS_VIEW_ID, provider),
    vscode.commands.registerCommand(SHOW_RUN_COMMAND, (runId: unknown) => {
      if (typeof runId === 'string') void provider.showRun(runId);
    }),
  );
}
