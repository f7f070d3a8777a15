// The training sidecar: a vscode-languageserver process on stdin/stdout that answers the gowide
// protocol (server/protocol.ts) with the engine and the training service.
import {
  createConnection,
  ErrorCodes,
  LSPErrorCodes,
  ProposedFeatures,
  ResponseError,
  StreamMessageWriter,
  type CancellationToken,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver/node';
import type { RequestHandler, RequestType } from 'vscode-jsonrpc/node';
import { version } from '../package.json';
import {
  type BackendName,
  type EngineInfo,
  type LogLevel,
  type SidecarInitializationOptions,
  CreateExperimentRequest,
  DeleteRunRequest,
  EngineInfoRequest,
  ExportModelRequest,
  GetMetricsRequest,
  ListRunsRequest,
  LogNotification,
  NetSizesRequest,
  FinetuneSettingsRequest,
  MetricsNotification,
  ProgressNotification,
  RunStateNotification,
  SelectBackendRequest,
  StartStageRequest,
  StartSweepRequest,
  SweepResultsRequest,
  StopRequest,
  ValidateExperimentRequest,
} from './protocol';
import { BackendUnavailableError, EngineCancelledError, getEngineInfo, initEngine, NoBackendError } from './engine/engine';
import { computeNetSizes } from './models/net-sizes';
import { loadExperimentFile } from './experiment';
import { finetuneSettingFields } from './experiment/finetune-settings';
import { registerEditorFeatures } from './editor';
import { createTrainingService } from './training/local-service';
import type { TrainingEvents, TrainingService } from './training/service';
import { abortSignalFor, yieldToPendingMessages } from './rpc/cancellation';
import { takeStdoutForProtocol } from './rpc/console-redirect';
import { FramingMessageReader, type BadInput } from './rpc/framing-reader';
import { createMessageGate } from './rpc/message-gate';
import { checkParams, PARAMS_SPECS, type ParamsSpec } from './rpc/params';

export const SERVER_NAME = 'gowide-sidecar';

export function startSidecar(): Connection {
  let connection: Connection | undefined;
  // Once the client is initialized it receives log lines as notifications; writing them to stderr as
  // well would show each line twice (language clients copy stderr into the same output channel).
  let clientReady = false;
  const log = (level: LogLevel, message: string): void => {
    if (clientReady && connection) {
      try {
        connection.sendNotification(LogNotification, { level, message });
        return;
      } catch {
        // The connection is closing: fall back to stderr.
      }
    }
    process.stderr.write(`[${SERVER_NAME} ${level}] ${message}\n`);
  };

  const protocolOut = takeStdoutForProtocol(log);
  const writer = new StreamMessageWriter(protocolOut);
  const reader = new FramingMessageReader(process.stdin, (bad) => answerBadInput(bad), createMessageGate());
  connection = createConnection(ProposedFeatures.all, reader, writer);
  const conn = connection;
  const editor = registerEditorFeatures(conn, (message) => log('warn', message));

  // Each bad input costs a log line and an error response, queued on stdout: unlimited, a megabyte of
  // 21-byte bad frames queued 100k writes and kept the sidecar busy for 5 s. At most
  // BAD_INPUTS_REPORTED_PER_SECOND are reported; beyond that, inputs without an id are only counted
  // (one summary line a second later), and requests with an id are still answered, without a log line.
  const BAD_INPUTS_REPORTED_PER_SECOND = 50;
  let reportWindowStart = 0;
  let reportedInWindow = 0;
  let unreported = 0;
  let summaryTimer: NodeJS.Timeout | undefined;
  function answerBadInput(bad: BadInput): void {
    const now = Date.now();
    if (now - reportWindowStart >= 1000) {
      reportWindowStart = now;
      reportedInWindow = 0;
    }
    if (++reportedInWindow > BAD_INPUTS_REPORTED_PER_SECOND) {
      unreported++;
      summaryTimer ??= setTimeout(reportUnreported, 1000).unref();
      if (bad.id === undefined || bad.id === null) return;
    } else {
      log('warn', `bad input on stdin (${bad.kind}): ${bad.message}`);
    }
    const code = bad.kind === 'not-a-message' || bad.kind === 'refused' ? ErrorCodes.InvalidRequest : ErrorCodes.ParseError;
    writer.write({ jsonrpc: '2.0', id: bad.id ?? null, error: { code, message: bad.message } } as never).catch(() => undefined);
  }
  function reportUnreported(): void {
    summaryTimer = undefined;
    log('warn', `${unreported} more bad inputs on stdin were not reported one by one (at most ${BAD_INPUTS_REPORTED_PER_SECOND} a second are)`);
    unreported = 0;
  }

  reader.onClose(() => process.exit(0));
  // A stray rejection in training code must not take the sidecar down with it.
  process.on('unhandledRejection', (reason) => {
    log('error', `unhandled rejection: ${reason instanceof Error && reason.stack ? reason.stack : String(reason)}`);
  });
  process.on('uncaughtException', (error) => {
    log('error', `uncaught exception, exiting: ${error.stack ?? error.message}`);
    process.exit(1);
  });
  reader.onError((error) => log('error', `reading stdin failed: ${error.message}`));

  // ---------- engine ----------
  let requestedBackend: BackendName | undefined;

  async function engineInfo(refresh: boolean, token?: CancellationToken): Promise<EngineInfo> {
    const cached = getEngineInfo();
    if (cached && !refresh && cached.requested === requestedBackend) return cached;
    const { signal, dispose } = token ? abortSignalFor(token) : { signal: undefined, dispose: () => undefined };
    try {
      return await initEngine({ backend: requestedBackend, refresh, signal, log: (m) => log('info', m) });
    } finally {
      dispose();
    }
  }

  conn.onInitialize((params): InitializeResult => {
    const options = (params.initializationOptions ?? {}) as SidecarInitializationOptions;
    const backend = options.backend;
    if (backend && backend !== 'auto') {
      const problem = checkParams({ backend }, PARAMS_SPECS.selectBackend);
      if (problem) log('warn', `initializationOptions.backend ignored: ${problem.message}`);
      else requestedBackend = backend;
    }
    editor.initialize(params.capabilities);
    return {
      capabilities: editor.capabilities,
      serverInfo: { name: SERVER_NAME, version },
    };
  });

  conn.onInitialized(() => {
    clientReady = true;
    // Probe in the background so the first engineInfo is quick; failures are reported then too.
    engineInfo(false).catch((error) => log('error', `engine: ${(error as Error).message}`));
  });

  handle(EngineInfoRequest, PARAMS_SPECS.engineInfo, async (params, token) => {
    if (params?.refresh) await yieldToPendingMessages();
    return engineInfo(params?.refresh ?? false, token);
  });

  handle(SelectBackendRequest, PARAMS_SPECS.selectBackend, async (params, token) => {
    await yieldToPendingMessages();
    const { signal, dispose } = abortSignalFor(token);
    try {
      const info = await initEngine({ backend: params.backend, signal, log: (m) => log('info', m) });
      requestedBackend = params.backend;
      return info;
    } finally {
      dispose();
    }
  });

  // ---------- training ----------
  let service: TrainingService | undefined;
  const events: TrainingEvents = {
    onProgress: (p) => void conn.sendNotification(ProgressNotification, p),
    onMetrics: (runId, records) => {
      void conn.sendNotification(MetricsNotification, { runId, records });
      editor.onMetrics(runId, records);
    },
    onRunState: (run) => {
      void conn.sendNotification(RunStateNotification, { run });
      editor.onRunState(run);
    },
    onLog: (level, message) => log(level, message),
  };
  async function trainingService(): Promise<TrainingService> {
    if (service) return service;
    await engineInfo(false);
    try {
      service = createTrainingService(events);
    } catch (error) {
      throw new ResponseError(LSPErrorCodes.RequestFailed, `the training service could not start: ${(error as Error).message}`);
    }
    return service;
  }

  handle(ValidateExperimentRequest, PARAMS_SPECS.validateExperiment, async (p) => (await trainingService()).validateExperiment(p));
  handle(CreateExperimentRequest, PARAMS_SPECS.createExperiment, async (p) => (await trainingService()).createExperiment(p));
  handle(NetSizesRequest, PARAMS_SPECS.netSizes, async (p) => {
    await engineInfo(false);
    return computeNetSizes(p.path, p.text);
  });
  handle(FinetuneSettingsRequest, PARAMS_SPECS.finetuneSettings, async (p) => ({
    fields: finetuneSettingFields(loadExperimentFile(p.path).experiment),
  }));
  handle(StopRequest, PARAMS_SPECS.stop, async (p) => (await trainingService()).stop(p));
  handle(ListRunsRequest, PARAMS_SPECS.listRuns, async (p) => (await trainingService()).listRuns(p ?? {}));
  handle(DeleteRunRequest, PARAMS_SPECS.deleteRun, async (p) => (await trainingService()).deleteRun(p));
  handle(ExportModelRequest, PARAMS_SPECS.exportModel, async (p) => (await trainingService()).exportModel(p));
  handle(GetMetricsRequest, PARAMS_SPECS.getMetrics, async (p) => (await trainingService()).getMetrics(p));
  /** Starting training: with wait the answer comes when it ends, and cancelling the request stops it. */
  const trainingRequest =
    <P extends { wait?: boolean }, R>(start: (training: TrainingService, p: P, signal?: AbortSignal) => Promise<R>) =>
    async (p: P, token: CancellationToken): Promise<R> => {
      const training = await trainingService();
      if (!p.wait) return start(training, p);
      const { signal, dispose } = abortSignalFor(token);
      try {
        return await start(training, p, signal);
      } finally {
        dispose();
      }
    };
  handle(StartStageRequest, PARAMS_SPECS.startStage, trainingRequest((training, p, signal) => training.startStage(p, signal)));
  handle(StartSweepRequest, PARAMS_SPECS.startSweep, trainingRequest((training, p, signal) => training.startSweep(p, signal)));
  handle(SweepResultsRequest, PARAMS_SPECS.sweepResults, async (p) => (await trainingService()).sweepResults(p));

  conn.onNotification((method) => log('warn', `ignored unknown notification ${method}`));

  /** Registers a handler that validates params first and turns every failure into a ResponseError. */
  function handle<P, R>(
    type: RequestType<P, R, void>,
    spec: ParamsSpec,
    run: (params: P, token: CancellationToken) => Promise<R>,
  ): void {
    // The protocol's request types declare no error data (void); the data we attach is extra.
    const handler = async (params: P, token: CancellationToken): Promise<R | ResponseError<void>> => {
      const problem = checkParams(params, spec);
      if (problem) {
        return new ResponseError(ErrorCodes.InvalidParams, `${type.method}: ${problem.message}`, {
          field: problem.field,
        }) as ResponseError<never>;
      }
      try {
        return await run(params, token);
      } catch (error) {
        return toResponseError(type.method, error, token) as ResponseError<never>;
      }
    };
    // RequestHandler's conditional result type does not accept a generic R; the shape is the same.
    conn.onRequest(type, handler as unknown as RequestHandler<P, R, void>);
  }

  function toResponseError(method: string, error: unknown, token: CancellationToken): ResponseError<unknown> {
    if (error instanceof ResponseError) return error;
    if (error instanceof EngineCancelledError || token.isCancellationRequested) {
      return new ResponseError(LSPErrorCodes.RequestCancelled, `${method} was cancelled`);
    }
    if (error instanceof BackendUnavailableError) {
      return new ResponseError(LSPErrorCodes.RequestFailed, error.message, { backend: error.backend, reason: error.reason, info: error.info });
    }
    if (error instanceof NoBackendError) {
      return new ResponseError(LSPErrorCodes.RequestFailed, error.message, { info: error.info });
    }
    const message = error instanceof Error ? error.message : String(error);
    log('error', `${method} failed: ${error instanceof Error && error.stack ? error.stack : message}`);
    return new ResponseError(LSPErrorCodes.RequestFailed, `${method} failed: ${message}`);
  }

  conn.listen();
  log('info', `${SERVER_NAME} ${version} listening on stdio (node ${process.versions.node}, pid ${process.pid})`);
  return conn;
}
