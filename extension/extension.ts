// Entry point: builds the context, registers the command table and the experiments view, starts the sidecar.
import * as vscode from 'vscode';
import { COMMANDS } from './commands';
import { Ctx } from './ctx';
import { ExperimentsTree } from './experiments-tree';
import { TrainingStatus } from './training-status';

let current: Ctx | undefined;

/** The returned Ctx is the extension's API; end-to-end tests use it to reach the sidecar. */
export function activate(context: vscode.ExtensionContext): Ctx {
  const ctx = new Ctx(context);
  current = ctx;
  context.subscriptions.push({ dispose: () => void ctx.dispose() });
  for (const [id, factory] of Object.entries(COMMANDS)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, factory(ctx)));
  }
  const tree = new ExperimentsTree((experimentPath) => ctx.listRuns(experimentPath), ctx.runs);
  context.subscriptions.push(ctx.webviews.register());
  context.subscriptions.push(
    tree,
    new TrainingStatus(ctx.runs, (experimentPath) => ctx.listRuns(experimentPath)),
    // Runs appear once the sidecar is up: list them again when it (re)starts.
    ctx.onDidChangeState((state) => (state.kind === 'running' ? tree.refresh() : undefined)),
    vscode.window.createTreeView('gowide.experiments', { treeDataProvider: tree, showCollapseAll: false }),
    ctx.onDidChangeExperiments(() => tree.refresh()),
  );
  // Not awaited: commands work (and report the state) while the sidecar starts.
  void ctx.start();
  return ctx;
}

export async function deactivate(): Promise<void> {
  const ctx = current;
  current = undefined;
  await ctx?.dispose();
}
