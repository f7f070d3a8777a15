// What the sidecar needs from the training side. The sidecar (server/sidecar.ts) wires each protocol
// request to one method; the CLI uses the same service without a connection.
import type {
  CreateExperimentParams,
  CreateExperimentResult,
  DeleteRunResult,
  ExportModelParams,
  ExportModelResult,
  GetMetricsParams,
  ListRunsParams,
  MetricRecord,
  ProgressParams,
  RunRefParams,
  RunSummary,
  StartStageParams,
  StartStageResult,
  StartSweepParams,
  StartSweepResult,
  SweepResultsParams,
  StopParams,
  StopResult,
  ValidateExperimentParams,
  ValidateExperimentResult,
} from '../protocol';

export interface TrainingEvents {
  onProgress(p: ProgressParams): void;
  onMetrics(runId: string, records: MetricRecord[]): void;
  onRunState(run: RunSummary): void;
  onLog(level: 'info' | 'warn' | 'error', message: string): void;
}

export interface TrainingService {
  validateExperiment(p: ValidateExperimentParams): Promise<ValidateExperimentResult>;
  createExperiment(p: CreateExperimentParams): Promise<CreateExperimentResult>;
  /** Starts (or continues) a run. With p.wait the promise settles when the run ends, and
   *  aborting `signal` stops the run. */
  startStage(p: StartStageParams, signal?: AbortSignal): Promise<StartStageResult>;
  /** Runs every point of the experiment's sweep, one run each (see StartSweepParams). */
  startSweep(p: StartSweepParams, signal?: AbortSignal): Promise<StartSweepResult>;
  /** The newest sweep of the experiment as it stands; null when it has none. */
  sweepResults(p: SweepResultsParams): Promise<StartSweepResult | null>;
  stop(p: StopParams): Promise<StopResult>;
  listRuns(p: ListRunsParams): Promise<RunSummary[]>;
  getMetrics(p: GetMetricsParams): Promise<MetricRecord[]>;
  /** Deletes a run folder (refused while the run is in progress). */
  deleteRun(p: RunRefParams): Promise<DeleteRunResult>;
  /** Copies a run's exported thin model to p.destination. */
  exportModel(p: ExportModelParams): Promise<ExportModelResult>;
}
