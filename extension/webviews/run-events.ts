// Live run events for the webview hosts. A language client keeps one handler per notification method,
// so registering MetricsNotification once per panel would replace (and on dispose remove) the others':
// one registration per context fans out to every listener. Run state and progress come from the
// context's run tracker when it has one, so the hosts never take those notifications from it.
import type * as vscode from 'vscode';
import { MetricsNotification, ProgressNotification, RunStateNotification, type MetricsParams, type ProgressParams, type RunSummary } from '../../server/protocol';
import type { WebviewHostContext } from './host';

export interface RunListeners {
  onMetrics?(params: MetricsParams): void;
  onRun?(run: RunSummary): void;
  onProgress?(progress: ProgressParams): void;
}

interface Hub {
  listeners: Set<RunListeners>;
  registrations: vscode.Disposable[];
}

const hubs = new WeakMap<WebviewHostContext, Hub>();

function hubOf(ctx: WebviewHostContext): Hub {
  let hub = hubs.get(ctx);
  if (hub) return hub;
  const created: Hub = { listeners: new Set(), registrations: [] };
  const each = (call: (l: RunListeners) => void) => {
    for (const listener of created.listeners) call(listener);
  };
  created.registrations.push(ctx.onNotification(MetricsNotification, (p) => each((l) => l.onMetrics?.(p))));
  const tracker = ctx.runs;
  if (tracker) {
    created.registrations.push(tracker.onDidChange((runId) => {
      const run = tracker.summary(runId);
      if (run) each((l) => l.onRun?.(run));
      const progress = tracker.progressOf(runId);
      if (progress) each((l) => l.onProgress?.(progress));
    }));
  } else {
    created.registrations.push(
      ctx.onNotification(RunStateNotification, (p) => each((l) => l.onRun?.(p.run))),
      ctx.onNotification(ProgressNotification, (p) => each((l) => l.onProgress?.(p))),
    );
  }
  hubs.set(ctx, created);
  return created;
}

export function listenToRuns(ctx: WebviewHostContext, listeners: RunListeners): { dispose(): void } {
  const hub = hubOf(ctx);
  hub.listeners.add(listeners);
  return {
    dispose: () => {
      hub.listeners.delete(listeners);
      if (hub.listeners.size > 0) return;
      for (const r of hub.registrations) r.dispose();
      hubs.delete(ctx);
    },
  };
}
