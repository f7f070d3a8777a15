// Every command of the extension, one small function each, in one table (as rust-analyzer does).
// Only type imports from the editor side, so the table loads in plain Node for tests.
import * as path from 'node:path';
import type {
  CreateExperimentParams,
  CreateExperimentResult,
  EngineInfo,
  ModelFamily,
} from '../server/protocol';
import type { BackendChoice } from './engine-info-view';
import { BACKEND_CHOICES, backendRowIcon, backendRows, engineInfoMarkdown } from './engine-info-view';
import type { Ui } from './ui';

/** What command handlers may use; Ctx implements it. */
export interface CommandContext {
  readonly ui: Ui;
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
}

export type CommandHandler = (...args: unknown[]) => unknown;
export type CommandFactory = (ctx: CommandContext) => CommandHandler;

const restartSidecar: CommandFactory = (ctx) => () => ctx.restartSidecar();

const showSidecarLog: CommandFactory = (ctx) => () => ctx.showLog();

type EngineInfoAction = 'markdown' | 'refresh' | 'selectBackend' | 'log';

const showEngineInfo: CommandFactory = (ctx) => async () => {
  let info: EngineInfo;
  try {
    info = await ctx.engineInfo(false);
  } catch (error) {
    const choice = await ctx.ui.error(`Go Wide: no engine report. ${messageOf(error)}`, 'Restart Sidecar', 'Show Log');
    if (choice === 'Restart Sidecar') await ctx.restartSidecar();
    if (choice === 'Show Log') ctx.showLog();
    return;
  }
  for (;;) {
    const rows = backendRows(info).map((row) => ({
      label: `${backendRowIcon(row.status)} ${row.name}`,
      description: row.status,
      detail: row.detail,
      value: 'selectBackend' as EngineInfoAction,
    }));
    const action = await ctx.ui.pick<EngineInfoAction>(
      [
        ...rows,
        { label: 'Actions', separator: true },
        { label: '$(markdown) Open Engine Report', value: 'markdown' },
        { label: '$(refresh) Re-run Backend Probes', value: 'refresh' },
        { label: '$(server-process) Select Compute Backend…', value: 'selectBackend' },
        { label: '$(output) Show Sidecar Log', value: 'log' },
      ],
      { title: `Go Wide engine: ${info.active} on ${info.device}`, placeholder: 'Backends, best first' },
    );
    if (action === 'refresh') {
      info = await ctx.engineInfo(true);
      continue;
    }
    if (action === 'markdown') await ctx.ui.showMarkdown('Go Wide Engine', engineInfoMarkdown(info));
    if (action === 'selectBackend') await selectBackend(ctx)();
    if (action === 'log') ctx.showLog();
    return;
  }
};

const selectBackend: CommandFactory = (ctx) => async () => {
  const current = ctx.currentBackendChoice();
  let reasons = new Map<string, string>();
  try {
    const info = await ctx.engineInfo(false);
    reasons = new Map(backendRows(info).map((row) => [row.name, `${row.status}: ${row.detail}`]));
  } catch {
    // Without a running sidecar the user can still choose; the sidecar applies it when it starts.
  }
  const choice = await ctx.ui.pick<BackendChoice>(
    BACKEND_CHOICES.map((name) => ({
      label: name === current ? `$(check) ${name}` : name,
      description: name === 'auto' ? 'best backend that loads' : undefined,
      detail: reasons.get(name),
      value: name,
    })),
    { title: 'Go Wide: Select Compute Backend', placeholder: `Now: ${current}` },
  );
  if (choice !== undefined && choice !== current) await ctx.selectBackend(choice);
};

const EXPERIMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const FAMILIES: { family: ModelFamily; detail: string }[] = [
  { family: 'mlp', detail: 'Dense layers; trains on every backend' },
  { family: 'cnn', detail: 'Convolutions; needs the cpu or a native backend to train' },
  { family: 'resnet', detail: 'Bottleneck residual blocks' },
  { family: 'transformer', detail: 'Encoder layers' },
];

/** A short guided flow; the UI issue extends it (depth, width, data set, widening factor). */
const newExperiment: CommandFactory = (ctx) => async () => {
  const folders = ctx.ui.workspaceFolders();
  if (folders.length === 0) {
    await ctx.ui.warn('Go Wide: open a folder first; experiments are *.gowide.json files in the workspace.');
    return;
  }
  const folder =
    folders.length === 1
      ? folders[0]
      : await ctx.ui.pick(folders.map((f) => ({ label: f.name, detail: f.fsPath, value: f })), { title: 'New Experiment: folder' });
  if (!folder) return;
  const name = await ctx.ui.input({
    title: 'New Experiment: name',
    prompt: 'The file will be NAME.gowide.json',
    placeholder: 'deep-mlp',
    validate: (text) => (EXPERIMENT_NAME.test(text) ? undefined : 'Letters, digits, "-", "_" and "." only, starting with a letter or digit.'),
  });
  if (!name) return;
  const family = await ctx.ui.pick(
    FAMILIES.map((f) => ({ label: f.family, detail: f.detail, value: f.family })),
    { title: 'New Experiment: model family' },
  );
  if (!family) return;
  try {
    const result = await ctx.createExperiment({ path: path.join(folder.fsPath, `${name}.gowide.json`), name, family });
    ctx.refreshExperiments();
    await ctx.ui.openFile(result.path);
  } catch (error) {
    await ctx.ui.error(`Go Wide: could not create the experiment. ${messageOf(error)}`);
  }
};

const refreshExperiments: CommandFactory = (ctx) => () => ctx.refreshExperiments();

/** Command id -> handler factory. package.json's contributes.commands lists exactly these ids. */
export const COMMANDS: Readonly<Record<string, CommandFactory>> = {
  'gowide.restartSidecar': restartSidecar,
  'gowide.showEngineInfo': showEngineInfo,
  'gowide.selectBackend': selectBackend,
  'gowide.showSidecarLog': showSidecarLog,
  'gowide.newExperiment': newExperiment,
  'gowide.refreshExperiments': refreshExperiments,
};

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
