// The experiment explorer: experiments (*.gowide.json) -> runs -> stages -> blocks of the imitation
// stage, and for a launched run a "Jobs" group -> its jobs; a sweep's points are runs under one sweep
// item. Item contents come from run-tree-model.ts; refreshes are debounced while metrics stream.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { blockTitle } from '../server/block-title';
import type { JobStatus, RunSummary, StageStatus } from '../server/protocol';
import { compareExperimentPaths, EXPERIMENT_EXCLUDE_GLOB, EXPERIMENT_GLOB, experimentName } from './experiment-files';
import {
  blockDescription,
  experimentContextValue,
  experimentEntries,
  jobContextValue,
  jobDescription,
  jobIcon,
  jobsGroupDescription,
  jobTooltip,
  runContextValue,
  runDescription,
  runLabel,
  runTooltip,
  stageContextValue,
  stageDescription,
  stageLabel,
  stateIcon,
  sweepDescription,
  sweepLabel,
  sweepState,
  sweepTooltip,
  treeIds,
  type StateIcon,
  type SweepEntry,
  type TreeBlock,
} from './run-tree-model';
import type { RunTracker } from './run-tracker';

export interface ExperimentNode {
  kind: 'experiment';
  uri: vscode.Uri;
  experimentPath: string;
}
/** A sweep: its points' runs are its children. */
export interface SweepNode {
  kind: 'sweep';
  experimentUri: string;
  experimentPath: string;
  sweep: SweepEntry;
}
export interface RunNode {
  kind: 'run';
  experimentUri: string;
  experimentPath: string;
  runId: string;
  run: RunSummary;
}
export interface StageNode {
  kind: 'stage';
  experimentUri: string;
  experimentPath: string;
  runId: string;
  run: RunSummary;
  stage: StageStatus;
}
export interface BlockNode {
  kind: 'block';
  experimentUri: string;
  experimentPath: string;
  runId: string;
  block: TreeBlock;
}
/** The "Jobs" group of a launched run. */
export interface JobsNode {
  kind: 'jobs';
  experimentUri: string;
  experimentPath: string;
  runId: string;
  run: RunSummary;
}
export interface JobNode {
  kind: 'job';
  experimentUri: string;
  experimentPath: string;
  runId: string;
  job: JobStatus;
}
export type TreeNode = ExperimentNode | SweepNode | RunNode | StageNode | BlockNode | JobsNode | JobNode;

const REFRESH_DEBOUNCE_MS = 300;
const MAX_EXPERIMENTS = 2000;

export class ExperimentsTree implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly watcher = vscode.workspace.createFileSystemWatcher(EXPERIMENT_GLOB);
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Runs of each experiment as last listed, for the experiment item's context value. */
  private readonly runsOf = new Map<string, RunSummary[]>();

  constructor(
    private readonly listRuns: (experimentPath: string) => Promise<RunSummary[]>,
    private readonly tracker: RunTracker,
  ) {
    this.disposables.push(
      this.watcher.onDidCreate(() => this.refresh()),
      this.watcher.onDidDelete(() => this.refresh()),
      // Metrics and progress arrive several times a second while training: redraw at most every 300 ms.
      tracker.onDidChange(() => this.refresh()),
    );
  }

  /**
   * Throttled: a burst of file events or streamed progress redraws once, 300 ms after its first event.
   * (Not debounced: progress arrives more often than every 300 ms, and a debounce would never fire while training.)
   */
  refresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.changed.fire(undefined);
    }, REFRESH_DEBOUNCE_MS);
  }

  async getChildren(element?: TreeNode): Promise<TreeNode[]> {
    if (!element) {
      const uris = await vscode.workspace.findFiles(EXPERIMENT_GLOB, EXPERIMENT_EXCLUDE_GLOB, MAX_EXPERIMENTS);
      const nodes = uris.sort((a, b) => compareExperimentPaths(a.fsPath, b.fsPath)).map((uri): ExperimentNode => ({ kind: 'experiment', uri, experimentPath: uri.fsPath }));
      // Listing runs up front gives experiment items their readiness flags (context menus).
      await Promise.all(nodes.map((n) => this.loadRuns(n.experimentPath)));
      return nodes;
    }
    if (element.kind === 'experiment') {
      const runs = await this.loadRuns(element.experimentPath);
      const where = { experimentUri: element.uri.toString(), experimentPath: element.experimentPath };
      return experimentEntries(runs).map((entry): RunNode | SweepNode => (entry.kind === 'run' ? runNode(where, entry.run) : { kind: 'sweep', ...where, sweep: entry }));
    }
    if (element.kind === 'sweep') return element.sweep.points.map((run) => runNode(element, run));
    if (element.kind === 'run') {
      const stages = element.run.stages.map((stage): StageNode => ({ ...element, kind: 'stage', stage }));
      return element.run.jobs?.length ? [...stages, { ...element, kind: 'jobs' }] : stages;
    }
    if (element.kind === 'jobs') {
      return (element.run.jobs ?? []).map((job): JobNode => ({ kind: 'job', experimentUri: element.experimentUri, experimentPath: element.experimentPath, runId: element.runId, job }));
    }
    if (element.kind === 'stage') {
      return [...(element.stage.blocks ?? [])]
        .sort((a, b) => a.index - b.index)
        .map((block): BlockNode => ({ kind: 'block', experimentUri: element.experimentUri, experimentPath: element.experimentPath, runId: element.runId, block }));
    }
    return [];
  }

  private async loadRuns(experimentPath: string): Promise<RunSummary[]> {
    try {
      const runs = await this.listRuns(experimentPath);
      this.runsOf.set(experimentPath, runs);
      return runs;
    } catch {
      // The sidecar is starting or stopped: show the experiments without runs for now.
      return this.runsOf.get(experimentPath) ?? [];
    }
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    switch (node.kind) {
      case 'experiment':
        return this.experimentItem(node);
      case 'sweep': {
        const sweep = { ...node.sweep, points: node.sweep.points.map((run) => this.liveRun(run)) };
        const item = new vscode.TreeItem(sweepLabel(sweep), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = treeIds.sweep(node.experimentUri, sweep.sweepId);
        item.description = sweepDescription(sweep);
        item.tooltip = sweepTooltip(sweep);
        item.iconPath = themeIcon(sweepState(sweep));
        item.contextValue = 'gowide.sweep';
        return item;
      }
      case 'run': {
        const run = this.liveRun(node.run);
        const item = new vscode.TreeItem(runLabel(run), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = treeIds.run(node.experimentUri, node.runId);
        item.description = runDescription(run, this.tracker.progressOf(node.runId));
        item.tooltip = runTooltip(run);
        item.iconPath = themeIcon(run.state);
        item.contextValue = runContextValue(run);
        return item;
      }
      case 'stage': {
        const blocks = node.stage.blocks?.length ?? 0;
        const item = new vscode.TreeItem(stageLabel(node.stage), blocks > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.id = treeIds.stage(node.experimentUri, node.runId, node.stage.stage);
        item.description = stageDescription(node.stage, node.run.jobs);
        item.iconPath = themeIcon(node.stage.state);
        item.contextValue = stageContextValue(node.stage, node.run);
        if (node.stage.stage === 'imitate') {
          item.command = { command: 'gowide.openImitationMonitor', title: 'Open Imitation Monitor', arguments: [{ experimentPath: node.experimentPath, runId: node.runId }] };
        }
        return item;
      }
      case 'jobs': {
        const item = new vscode.TreeItem('Jobs', vscode.TreeItemCollapsibleState.Collapsed);
        item.id = treeIds.jobs(node.experimentUri, node.runId);
        item.description = jobsGroupDescription(node.run);
        item.iconPath = new vscode.ThemeIcon('server');
        item.contextValue = 'gowide.jobs';
        return item;
      }
      case 'job': {
        const item = new vscode.TreeItem(node.job.name, vscode.TreeItemCollapsibleState.None);
        item.id = treeIds.job(node.experimentUri, node.runId, node.job.name);
        item.description = jobDescription(node.job);
        item.tooltip = jobTooltip(node.job);
        item.iconPath = iconOf(jobIcon(node.job.state));
        item.contextValue = jobContextValue(node.job);
        if (node.job.log) item.command = { command: 'gowide.openJobLog', title: 'Open Job Log', arguments: [node] };
        return item;
      }
      case 'block': {
        const item = new vscode.TreeItem(blockTitle(node.block), vscode.TreeItemCollapsibleState.None);
        item.id = treeIds.block(node.experimentUri, node.runId, node.block.index);
        item.description = blockDescription(node.block);
        item.iconPath = themeIcon(node.block.state);
        item.contextValue = 'gowide.block';
        return item;
      }
    }
  }

  /** The run as last reported while it trains (which says nothing of its sweep), else as listed. */
  private liveRun(listed: RunSummary): RunSummary {
    const live = this.tracker.summary(listed.runId);
    if (!live) return listed;
    return listed.sweep ? { ...live, sweep: listed.sweep } : live;
  }

  private experimentItem(node: ExperimentNode): vscode.TreeItem {
    const item = new vscode.TreeItem(experimentName(node.uri.fsPath), vscode.TreeItemCollapsibleState.Collapsed);
    item.id = treeIds.experiment(node.uri.toString());
    item.resourceUri = node.uri;
    item.iconPath = new vscode.ThemeIcon('beaker');
    const relative = vscode.workspace.asRelativePath(node.uri, true);
    const folder = path.dirname(relative);
    const runs = this.runsOf.get(node.experimentPath) ?? [];
    item.description = [folder === '.' ? undefined : folder, runs.length > 0 ? `${runs.length} run${runs.length === 1 ? '' : 's'}` : undefined].filter(Boolean).join(' · ') || undefined;
    item.tooltip = relative;
    item.contextValue = experimentContextValue(runs);
    item.command = { command: 'vscode.open', title: 'Open Experiment', arguments: [node.uri] };
    return item;
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.watcher.dispose();
    this.changed.dispose();
  }
}

function runNode(where: { experimentUri: string; experimentPath: string }, run: RunSummary): RunNode {
  return { kind: 'run', experimentUri: where.experimentUri, experimentPath: where.experimentPath, runId: run.runId, run };
}

function themeIcon(state: Parameters<typeof stateIcon>[0]): vscode.ThemeIcon {
  return iconOf(stateIcon(state));
}

function iconOf(icon: StateIcon): vscode.ThemeIcon {
  return new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
}
