// What command handlers may use (Ctx implements it), and helpers every handler shares.
// Only type imports from the editor side, so handlers load in plain Node for tests.
import type {
  CreateExperimentParams,
  LauncherName,
  CreateExperimentResult,
  EngineInfo,
  ExportModelParams,
  ExportModelResult,
  RunRefParams,
  RunSummary,
  StartStageParams,
  StartStageResult,
} from '../server/protocol';
import type { BackendChoice } from './engine-info-view';
import type { LaunchSettingValues } from './launch-choice';
import type { Ui } from './ui';

/** The webview commands another module builds (extension/webviews), behind webview-commands.ts. */
export interface WebviewCommands {
  openWideningConfig(experimentPath: string): Promise<void>;
  openImitationMonitor(runId: string, experimentPath: string): Promise<void>;
  openCompareRuns(experimentPath: string): Promise<void>;
}

export interface CommandContext {
  readonly ui: Ui;
  readonly webviews: WebviewCommands;
  restartSidecar(): Promise<void>;
  /** Throws with a readable message when the sidecar is not running. */
  engineInfo(refresh: boolean): Promise<EngineInfo>;
  /** Writes the gowide.backend setting; the sidecar switches when the setting changes. */
  selectBackend(choice: BackendChoice): Promise<void>;
  currentBackendChoice(): BackendChoice;
  createExperiment(params: CreateExperimentParams): Promise<CreateExperimentResult>;
  refreshExperiments(): void;
  showLog(): void;
  executeCommand(command: string, ...args: unknown[]): Promise<unknown>;
  /** *.gowide.json files in the workspace. */
  findExperiments(): Promise<string[]>;
  /** Runs of an experiment, newest first. */
  listRuns(experimentPath: string): Promise<RunSummary[]>;
  startStage(params: StartStageParams): Promise<StartStageResult>;
  /** runsDir: where the run lives, so a launched run's jobs are cancelled even by a restarted sidecar. */
  stopRun(runId: string, runsDir?: string): Promise<boolean>;
  deleteRun(params: RunRefParams): Promise<void>;
  exportModel(params: ExportModelParams): Promise<ExportModelResult>;
  /** The launcher settings as set (gowide.launcher only where the user set it; launch-choice.ts checks them). */
  launchSettingValues(): LaunchSettingValues;
  /** Writes gowide.launcher (to the workspace's settings when a folder is open). */
  saveLauncher(launcher: LauncherName): Promise<void>;
  /** Whether Slurm's sbatch is on the PATH where the extension (and so the sidecar) runs. */
  slurmFound(): boolean;
  /** Notification progress (with cancel, which stops the run) until the run ends; its final summary. */
  followRun(runId: string, title: string): Promise<RunSummary>;
}

export type CommandHandler = (...args: unknown[]) => unknown;
export type CommandFactory = (ctx: CommandContext) => CommandHandler;

/**
 * Training runs code paths chosen by the folder's files (data paths, run folders), so it needs a
 * trusted workspace (package.json declares untrustedWorkspaces "limited"). Training commands call this first.
 */
export async function ensureTrusted(ctx: CommandContext, action: string): Promise<boolean> {
  if (ctx.ui.isWorkspaceTrusted()) return true;
  const choice = await ctx.ui.warn(`Go Wide: ${action} needs a trusted workspace.`, 'Manage Workspace Trust');
  if (choice === 'Manage Workspace Trust') await ctx.executeCommand('workbench.trust.manage');
  return false;
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object' && 'message' in error) return String((error as { message: unknown }).message);
  return String(error);
}
