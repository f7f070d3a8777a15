// The extension's context object: owns the language client (the training sidecar), its restarts,
// the status bar item and the Output channel. Command handlers reach the editor only through it.
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import type { NotificationType, RequestParam, RequestType } from 'vscode-jsonrpc';
import {
  CreateExperimentRequest,
  DeleteRunRequest,
  EngineInfoRequest,
  ExportModelRequest,
  ListRunsRequest,
  LogNotification,
  SelectBackendRequest,
  StartStageRequest,
  StopRequest,
  type CreateExperimentParams,
  type CreateExperimentResult,
  type EngineInfo,
  type ExportModelParams,
  type LauncherName,
  type ExportModelResult,
  type RunRefParams,
  type RunSummary,
  type SidecarInitializationOptions,
  type StartStageParams,
  type StartStageResult,
} from '../server/protocol';
import { messageOf, type CommandContext } from './command-context';
import { EXPERIMENT_EXCLUDE_GLOB } from './experiment-files';
import { onPath, type LaunchSettingValues } from './launch-choice';
import { formatDuration } from './run-tree-model';
import { RunFeed } from './run-feed';
import type { RunTracker } from './run-tracker';
import { createWebviewCommands, type WebviewRegistration } from './webview-commands';
import { type BackendChoice, BACKEND_CHOICES, isBackendName, type SidecarState, statusBarView } from './engine-info-view';
import { EXPERIMENT_GLOB } from './experiment-files';
import { decideRestart, DEFAULT_RESTART_POLICY, recentCrashes, type RestartPolicy } from './restart-policy';
import { launchSettingProblem, resolveSidecarLaunch } from './sidecar-launch';
import { writeSidecarLog } from './sidecar-log';
import type { Ui } from './ui';
import { createVscodeUi, REPORT_SCHEME, ReportDocuments } from './vscode-ui';

export const CLIENT_ID = 'gowide';
const CLIENT_NAME = 'Go Wide Training Sidecar';
/** Connection errors tolerated in a row before the client shuts the sidecar down (and we restart it). */
const MAX_CONSECUTIVE_CONNECTION_ERRORS = 3;

/** Everyone listening to one notification method. The language client keeps a single handler per
 *  method (a second registration replaces the first), so Ctx registers one and fans out. */
interface NotificationListeners {
  type: NotificationType<unknown>;
  handlers: Set<(params: unknown) => void>;
}

export class Ctx implements CommandContext, vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly ui: Ui;
  private readonly statusBar: vscode.StatusBarItem;
  private readonly reports = new ReportDocuments();
  /** Shared by every client: the client hooks listeners onto it but never disposes it. */
  private readonly experimentWatcher = vscode.workspace.createFileSystemWatcher(EXPERIMENT_GLOB);
  private readonly disposables: vscode.Disposable[] = [];
  private readonly stateChanged = new vscode.EventEmitter<SidecarState>();
  /** Fires when the sidecar starts, stops, restarts or reports its engine. */
  readonly onDidChangeState = this.stateChanged.event;
  private readonly experimentsChanged = new vscode.EventEmitter<void>();
  /** Fires when the list of experiments may have changed (the tree refreshes on it). */
  readonly onDidChangeExperiments = this.experimentsChanged.event;
  /** Run state, progress and metrics as the sidecar reports them, once for every view. */
  readonly feed: RunFeed;
  /** Runs as the sidecar reports them (state, progress); the tree, status bar and progress follow it. */
  readonly runs: RunTracker;
  readonly webviews: WebviewRegistration;

  private client: LanguageClient | undefined;
  /** Increases with every client, so late events from a replaced client are ignored. */
  private generation = 0;
  private clientSubscriptions: vscode.Disposable[] = [];
  private readonly notificationListeners = new Map<string, NotificationListeners>();
  private crashTimes: number[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  private _state: SidecarState = { kind: 'starting' };

  constructor(
    private readonly extension: vscode.ExtensionContext,
    private readonly restartPolicy: RestartPolicy = DEFAULT_RESTART_POLICY,
  ) {
    this.log = vscode.window.createOutputChannel('Go Wide', { log: true });
    this.statusBar = vscode.window.createStatusBarItem('gowide.engine', vscode.StatusBarAlignment.Left, 0);
    this.statusBar.name = 'Go Wide Engine';
    this.ui = createVscodeUi(this.reports);
    this.disposables.push(
      this.log,
      this.statusBar,
      this.reports,
      this.experimentWatcher,
      this.stateChanged,
      this.experimentsChanged,
      vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, this.reports),
      vscode.workspace.onDidChangeConfiguration((event) => this.onConfigurationChanged(event)),
    );
    this.onNotification(LogNotification, (params) => writeSidecarLog(this.log, params));
    this.feed = new RunFeed(this);
    this.runs = this.feed.tracker;
    this.disposables.push(this.feed);
    this.webviews = createWebviewCommands(this);
    this.showState(this._state);
  }

  /** Where dist/webview lives (the webview hosts read it). */
  get extensionUri(): vscode.Uri {
    return this.extension.extensionUri;
  }

  get state(): SidecarState {
    return this._state;
  }

  get isRunning(): boolean {
    return this.client?.isRunning() ?? false;
  }

  /** Starts the sidecar; crashes from here on are restarted with backoff. */
  async start(): Promise<void> {
    await this.launch();
  }

  /** A user-requested restart forgets earlier crashes. */
  async restartSidecar(): Promise<void> {
    this.cancelPendingRestart();
    this.crashTimes = [];
    this.log.info('Restarting the training sidecar.');
    await this.launch();
  }

  showLog(): void {
    this.log.show(true);
  }

  executeCommand(command: string, ...args: unknown[]): Promise<unknown> {
    return Promise.resolve(vscode.commands.executeCommand(command, ...args));
  }

  /** Sends a request to the running sidecar; fails with a readable message when it is not running. */
  async sendRequest<P, R>(type: RequestType<P, R, void>, params: P, token?: vscode.CancellationToken): Promise<R> {
    const client = this.client;
    if (!client || !client.isRunning()) {
      throw new Error(`The training sidecar is not running (${this.describeState()}).`);
    }
    // RequestParam<P> only widens a null P to also accept undefined, so a P is always acceptable.
    return client.sendRequest(type, params as RequestParam<P>, token);
  }

  /** Handles a sidecar notification on the current and every future client (restarts included). */
  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): vscode.Disposable {
    let listeners = this.notificationListeners.get(type.method);
    if (!listeners) {
      listeners = { type: type as NotificationType<unknown>, handlers: new Set() };
      this.notificationListeners.set(type.method, listeners);
      if (this.client) this.clientSubscriptions.push(this.dispatchNotifications(this.client, listeners));
    }
    const handlers = listeners.handlers;
    const untyped = handler as (params: unknown) => void;
    handlers.add(untyped);
    return new vscode.Disposable(() => handlers.delete(untyped));
  }

  private dispatchNotifications(client: LanguageClient, listeners: NotificationListeners): vscode.Disposable {
    return client.onNotification(listeners.type, (params) => {
      for (const handler of [...listeners.handlers]) {
        try {
          handler(params);
        } catch (error) {
          this.log.error(`handling ${listeners.type.method}: ${messageOf(error)}`);
        }
      }
    });
  }

  async engineInfo(refresh: boolean): Promise<EngineInfo> {
    const info = await this.sendRequest(EngineInfoRequest, { refresh });
    this.setState({ kind: 'running', info });
    return info;
  }

  currentBackendChoice(): BackendChoice {
    const value = vscode.workspace.getConfiguration('gowide').get<string>('backend', 'auto');
    return (BACKEND_CHOICES as readonly string[]).includes(value) ? (value as BackendChoice) : 'auto';
  }

  async selectBackend(choice: BackendChoice): Promise<void> {
    // The configuration listener applies it to the sidecar.
    await writeSetting('backend', choice);
  }

  createExperiment(params: CreateExperimentParams): Promise<CreateExperimentResult> {
    return this.sendRequest(CreateExperimentRequest, params);
  }

  refreshExperiments(): void {
    this.experimentsChanged.fire();
  }

  async findExperiments(): Promise<string[]> {
    const uris = await vscode.workspace.findFiles(EXPERIMENT_GLOB, EXPERIMENT_EXCLUDE_GLOB, 2000);
    return uris.map((uri) => uri.fsPath).sort();
  }

  /** Runs of an experiment, newest first, with summaries this window has seen more recently. */
  async listRuns(experimentPath: string): Promise<RunSummary[]> {
    const runs = await this.sendRequest(ListRunsRequest, { experimentPath });
    return runs.map((run) => {
      const live = this.runs.summary(run.runId);
      return live && live.state !== run.state && run.state === 'running' ? live : run;
    });
  }

  startStage(params: StartStageParams): Promise<StartStageResult> {
    return this.sendRequest(StartStageRequest, params);
  }

  async stopRun(runId: string, runsDir?: string): Promise<boolean> {
    return (await this.sendRequest(StopRequest, { runId, ...(runsDir ? { runsDir } : {}) })).stopped;
  }

  async deleteRun(params: RunRefParams): Promise<void> {
    await this.sendRequest(DeleteRunRequest, params);
  }

  exportModel(params: ExportModelParams): Promise<ExportModelResult> {
    return this.sendRequest(ExportModelRequest, params);
  }

  launchSettingValues(): LaunchSettingValues {
    const config = vscode.workspace.getConfiguration('gowide');
    const set = config.inspect('launcher');
    return {
      launcher: set?.workspaceFolderValue ?? set?.workspaceValue ?? set?.globalValue,
      localJobs: config.get('localJobs'),
      slurmOptions: config.get('slurm.options'),
      gpusPerJob: config.get('slurm.gpusPerJob'),
      maxRetries: config.get('slurm.maxRetries'),
    };
  }

  saveLauncher(launcher: LauncherName): Promise<void> {
    return writeSetting('launcher', launcher);
  }

  slurmFound(): boolean {
    return onPath('sbatch');
  }

  /** A cancellable notification until the run ends; cancel sends StopRequest. Ends early if the sidecar stops. */
  async followRun(runId: string, title: string): Promise<RunSummary> {
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      let shown = 0;
      const progressSub = this.runs.onProgress(runId, (p) => {
        const percent = Math.round(p.fraction * 100);
        const eta = p.etaSeconds !== undefined ? `, ${formatDuration(p.etaSeconds)} left` : '';
        progress.report({ increment: Math.max(0, percent - shown), message: `${percent}% · ${p.message}${eta}` });
        shown = Math.max(shown, percent);
      });
      const cancelSub = token.onCancellationRequested(() => {
        progress.report({ message: 'stopping…' });
        this.stopRun(runId).catch((error) => this.log.warn(`Stopping ${runId}: ${messageOf(error)}`));
      });
      let stateSub: vscode.Disposable | undefined;
      const sidecarGone = new Promise<RunSummary>((resolve) => {
        stateSub = this.onDidChangeState((state) => {
          if (state.kind === 'running') return;
          const last = this.runs.summary(runId);
          resolve({ ...(last ?? ({ runId, runDir: '', experiment: '', experimentPath: '', startedAt: '', stages: [], arms: {} } as unknown as RunSummary)), state: 'failed', error: 'the training sidecar stopped' });
        });
      });
      try {
        return await Promise.race([this.runs.whenEnded(runId), sidecarGone]);
      } finally {
        progressSub.dispose();
        cancelSub.dispose();
        stateSub?.dispose();
      }
    });
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.cancelPendingRestart();
    await this.disposeClient();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  // ---------- sidecar lifecycle ----------

  private async launch(): Promise<void> {
    if (this.disposed) return;
    const generation = ++this.generation;
    await this.disposeClient();
    if (generation !== this.generation || this.disposed) return;
    this.setState({ kind: 'starting' });
    const client = this.createClient(generation);
    this.client = client;
    this.clientSubscriptions = [...this.notificationListeners.values()].map((listeners) => this.dispatchNotifications(client, listeners));
    try {
      await client.start();
    } catch (error) {
      if (generation === this.generation) this.onSidecarDown(generation, `it did not start: ${messageOf(error)}`);
      return;
    }
    if (generation !== this.generation) return;
    this.setState({ kind: 'running' });
    // Records written while no sidecar was connected: the views' runs fetch what they miss.
    if (generation > 1) void this.feed.resync();
    try {
      await this.engineInfo(false);
    } catch (error) {
      if (generation === this.generation) this.log.warn(`Engine report failed: ${messageOf(error)}`);
    }
  }

  private createClient(generation: number): LanguageClient {
    const config = vscode.workspace.getConfiguration('gowide');
    const setting = config.get<unknown>('sidecar.command');
    const problem = launchSettingProblem(setting);
    if (problem) this.log.warn(problem);
    const launch = resolveSidecarLaunch(setting, {
      extensionPath: this.extension.extensionPath,
      execPath: process.execPath,
      workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    });
    this.log.info(`Starting the training sidecar: ${launch.description}`);
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      options: { cwd: launch.cwd, env: { ...process.env, ...launch.env }, shell: launch.shell },
    };
    const backend = this.currentBackendChoice();
    const initializationOptions: SidecarInitializationOptions = { backend };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file', pattern: EXPERIMENT_GLOB }],
      synchronize: { fileEvents: this.experimentWatcher },
      outputChannel: this.log,
      initializationOptions,
      errorHandler: {
        error: (_error, _message, count) =>
          count !== undefined && count <= MAX_CONSECUTIVE_CONNECTION_ERRORS
            ? { action: ErrorAction.Continue }
            : { action: ErrorAction.Shutdown, handled: true },
        closed: () => {
          this.onSidecarDown(generation, 'its process exited');
          // Restarts are ours (with backoff), not the client's.
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
    };
    return new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
  }

  private onSidecarDown(generation: number, why: string): void {
    if (this.disposed || generation !== this.generation || this.restartTimer) return;
    const now = Date.now();
    this.crashTimes = recentCrashes([...this.crashTimes, now], now, this.restartPolicy);
    const decision = decideRestart(this.crashTimes, now, this.restartPolicy);
    if (decision.action === 'restart') {
      this.log.warn(`The training sidecar stopped (${why}); restarting in ${decision.delayMs / 1000} s (attempt ${decision.attempt}).`);
      this.setState({ kind: 'restarting', delayMs: decision.delayMs, attempt: decision.attempt });
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        void this.launch();
      }, decision.delayMs);
      return;
    }
    this.log.error(`The training sidecar stopped (${why}). ${decision.message}`);
    this.setState({ kind: 'stopped', reason: decision.message });
    void this.ui.error(decision.message, 'Restart', 'Show Log').then((choice) => {
      if (choice === 'Restart') void this.restartSidecar();
      if (choice === 'Show Log') this.showLog();
    });
  }

  private cancelPendingRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  private async disposeClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    for (const d of this.clientSubscriptions.splice(0)) d.dispose();
    if (!client) return;
    try {
      await client.dispose(2000);
    } catch (error) {
      this.log.debug(`Stopping the previous sidecar: ${messageOf(error)}`);
    }
  }

  // ---------- settings ----------

  private onConfigurationChanged(event: vscode.ConfigurationChangeEvent): void {
    if (event.affectsConfiguration('gowide.sidecar.command')) {
      void this.ui
        .info('Go Wide: the sidecar command changed. Restart the training sidecar to use it?', 'Restart')
        .then((choice) => (choice === 'Restart' ? this.restartSidecar() : undefined));
      return;
    }
    if (event.affectsConfiguration('gowide.backend')) void this.applyBackendSetting();
  }

  private async applyBackendSetting(): Promise<void> {
    const choice = this.currentBackendChoice();
    if (!isBackendName(choice)) {
      // "auto": the engine picks at start-up.
      await this.restartSidecar();
      return;
    }
    try {
      const info = await this.sendRequest(SelectBackendRequest, { backend: choice });
      this.setState({ kind: 'running', info });
      this.log.info(`Backend switched to ${info.active}.`);
    } catch (error) {
      const choiceMade = await this.ui.error(`Go Wide: could not switch to the ${choice} backend. ${messageOf(error)}`, 'Show Engine Info');
      if (choiceMade === 'Show Engine Info') await this.executeCommand('gowide.showEngineInfo');
    }
  }

  // ---------- status ----------

  private setState(state: SidecarState): void {
    // Keep the last engine report while running without a new one.
    if (state.kind === 'running' && !state.info && this._state.kind === 'running') state = { kind: 'running', info: this._state.info };
    this._state = state;
    this.showState(state);
    this.stateChanged.fire(state);
  }

  private showState(state: SidecarState): void {
    const view = statusBarView(state);
    this.statusBar.text = view.text;
    this.statusBar.tooltip = view.tooltip;
    this.statusBar.command = view.command;
    this.statusBar.backgroundColor = view.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.statusBar.show();
  }

  private describeState(): string {
    switch (this._state.kind) {
      case 'starting':
        return 'it is starting';
      case 'restarting':
        return 'it is restarting after a crash';
      case 'stopped':
        return 'it stopped';
      case 'running':
        return 'it is not connected';
    }
  }
}

/** Writes a gowide.* setting to the workspace's settings when a folder is open, else the user's. */
async function writeSetting(key: string, value: unknown): Promise<void> {
  const target = vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration('gowide').update(key, value, target);
}
