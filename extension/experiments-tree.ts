// The "Experiments" view: the workspace's *.gowide.json files. The UI issue adds runs, stages, blocks.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { compareExperimentPaths, EXPERIMENT_EXCLUDE_GLOB, EXPERIMENT_GLOB, experimentName } from './experiment-files';

export interface ExperimentNode {
  kind: 'experiment';
  uri: vscode.Uri;
}

const REFRESH_DEBOUNCE_MS = 300;
const MAX_EXPERIMENTS = 2000;

export class ExperimentsTree implements vscode.TreeDataProvider<ExperimentNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ExperimentNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly watcher = vscode.workspace.createFileSystemWatcher(EXPERIMENT_GLOB);
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor() {
    // Edits to a file do not change the list; creation and deletion do.
    this.watcher.onDidCreate(() => this.refresh());
    this.watcher.onDidDelete(() => this.refresh());
  }

  /** Debounced, so a burst of file events (git checkout, a run writing files) redraws once. */
  refresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.changed.fire(undefined);
    }, REFRESH_DEBOUNCE_MS);
  }

  async getChildren(element?: ExperimentNode): Promise<ExperimentNode[]> {
    if (element) return [];
    const uris = await vscode.workspace.findFiles(EXPERIMENT_GLOB, EXPERIMENT_EXCLUDE_GLOB, MAX_EXPERIMENTS);
    return uris
      .sort((a, b) => compareExperimentPaths(a.fsPath, b.fsPath))
      .map((uri) => ({ kind: 'experiment', uri }));
  }

  getTreeItem(node: ExperimentNode): vscode.TreeItem {
    const item = new vscode.TreeItem(experimentName(node.uri.fsPath), vscode.TreeItemCollapsibleState.None);
    item.id = node.uri.toString();
    item.resourceUri = node.uri;
    item.iconPath = new vscode.ThemeIcon('beaker');
    const relative = vscode.workspace.asRelativePath(node.uri, true);
    const folder = path.dirname(relative);
    item.description = folder === '.' ? undefined : folder;
    item.tooltip = relative;
    item.contextValue = 'gowide.experiment';
    item.command = { command: 'vscode.open', title: 'Open Experiment', arguments: [node.uri] };
    return item;
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.watcher.dispose();
    this.changed.dispose();
  }
}
