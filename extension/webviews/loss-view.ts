// The "Loss" sidebar view (gowide.loss): the selected run's curves. The run comes from the view's
// own picker, or from the command gowide.loss.showRun (runId, experimentPath?) the explorer can call.
import * as vscode from 'vscode';
import type { RunSummary } from '../../server/protocol';
import { onWebviewMessage, post, setWebviewHtml, webviewOptions, type WebviewHostContext } from './host';

export const LOSS_VIEW_ID = 'gowide.loss';
export const SHOW_RUN_COMMAND = 'gowide.loss.showRun';

class LossViewProvider implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  /** The runs this window heard of, newest first (the picker). */
  private runs: RunSummary[] = [];
  private selected: string | undefined;
  /** The selected run in the run feed. */
  private following: { dispose(): void } | undefined;

  constructor(private readonly ctx: WebviewHostContext) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.ctx);
    setWebviewHtml(this.ctx, view.webview, 'loss', 'Loss');
    const subscriptions = [
      this.ctx.feed.onRunState((run) => {
        if (!this.runs.some((r) => r.runId === run.runId) && this.selected === undefined) return this.showRun(run.runId);
        this.runs = this.ctx.feed.tracker.known();
        post(view.webview, { type: 'runs', runs: this.runs, selected: this.selected });
      }),
      { dispose: () => this.unfollow() },
      onWebviewMessage(view.webview, async (message) => {
        if (message.type === 'ready') return this.showRun(this.selected ?? this.ctx.feed.tracker.known()[0]?.runId);
        if (message.type === 'selectRun') return this.showRun(message.runId);
      }),
    ];
    view.onDidDispose(() => {
      this.view = undefined;
      for (const s of subscriptions) s.dispose();
    });
  }

  /** Shows a run's curves: its snapshot from the run feed, then its new records. */
  showRun(runId: string | undefined): void {
    this.unfollow();
    this.selected = runId;
    this.runs = this.ctx.feed.tracker.known();
    const webview = this.view?.webview;
    if (!webview) return;
    post(webview, { type: 'runs', runs: this.runs, selected: runId });
    if (runId === undefined) return;
    const run = this.ctx.feed.tracker.summary(runId);
    if (!run) {
      post(webview, { type: 'notice', level: 'error', message: `Run ${runId} is not known to this window: run it, or open it from the Experiments view.` });
      return;
    }
    // The view draws curves only: run state and progress reach it through the picker's list.
    this.following = this.ctx.feed.subscribe(run, (message) => message.type !== 'run' && message.type !== 'progress' && post(webview, message));
  }

  private unfollow(): void {
    this.following?.dispose();
    this.following = undefined;
  }
}

export function registerLossView(ctx: WebviewHostContext): vscode.Disposable {
  const provider = new LossViewProvider(ctx);
  return vscode.Disposable.from(
    vscode.window.registerWebviewViewProvider(LOSS_VIEW_ID, provider),
    vscode.commands.registerCommand(SHOW_RUN_COMMAND, (runId: unknown) => {
      if (typeof runId === 'string') provider.showRun(runId);
    }),
  );
}
