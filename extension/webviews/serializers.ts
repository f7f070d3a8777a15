// Brings the panels back after a window reload: each webview saved what it shows with setState,
// and the serializer re-attaches a host to it.
import * as vscode from 'vscode';
import type { RunSummary } from '../../server/protocol';
import type { WebviewHostContext } from './host';
import { COMPARE_VIEW_TYPE, restoreCompareRuns } from './compare-panel';
import { MONITOR_VIEW_TYPE, restoreImitationMonitor } from './monitor-panel';
import { restoreWideningPanel, WIDENING_VIEW_TYPE } from './widening-panel';

type Restore = (panel: vscode.WebviewPanel, state: Record<string, unknown>) => boolean;

function serializer(restore: Restore): vscode.WebviewPanelSerializer {
  return {
    async deserializeWebviewPanel(panel, state) {
      const record = typeof state === 'object' && state !== null ? (state as Record<string, unknown>) : {};
      // Nothing to show it with: close rather than leave an empty panel.
      if (!restore(panel, record)) panel.dispose();
    },
  };
}

export function registerWebviewSerializers(ctx: WebviewHostContext): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.window.registerWebviewPanelSerializer(WIDENING_VIEW_TYPE, serializer((panel, state) => {
      if (typeof state.experimentPath !== 'string') return false;
      restoreWideningPanel(ctx, panel, vscode.Uri.file(state.experimentPath));
      return true;
    })),
    vscode.window.registerWebviewPanelSerializer(MONITOR_VIEW_TYPE, serializer((panel, state) => {
      const run = state.run as RunSummary | undefined;
      if (typeof run?.runId !== 'string' || typeof run.experimentPath !== 'string') return false;
      restoreImitationMonitor(ctx, panel, run.runId, run.experimentPath);
      return true;
    })),
    vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, serializer((panel, state) => {
      const runs = state.runs as RunSummary[] | undefined;
      const experimentPath = runs?.[0]?.experimentPath;
      if (typeof experimentPath !== 'string') return false;
      restoreCompareRuns(ctx, panel, experimentPath);
      return true;
    })),
  );
}
