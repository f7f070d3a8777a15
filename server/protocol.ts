// The one typed protocol shared by the extension (client), the sidecar (server) and the webviews.
// Every custom request and notification lives here, with its payload types.
import { NotificationType, RequestType } from 'vscode-jsonrpc';

// ---------- engine ----------

export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendProbe {
  name: BackendName;
  /** True when the backend loaded and ran a small training step. */
  ok: boolean;
  /** Why it did not load (or was not tried), in words a user can act on. Absent when ok. */
  reason?: string;
  /** Seconds the probe took. */
  seconds: number;
  /** webgpu: the adapter Dawn offered, whether or not it was used. */
  adapter?: GpuAdapterInfo;
  /** webgpu: what Dawn and the Vulkan drivers printed while looking for adapters (captured, not shown on stderr). */
  driverMessages?: string[];
}

/** Software adapters (SwiftShader, llvmpipe/lavapipe) run on the CPU and are never chosen automatically. */
export type GpuAdapterKind = 'discrete' | 'integrated' | 'software' | 'unknown';

/** The adapter limits that bound training: buffer sizes, workgroup memory and size, dispatch size. */
export const GPU_TRAINING_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
] as const;
export type GpuTrainingLimit = (typeof GPU_TRAINING_LIMITS)[number];

/** A WebGPU adapter as Dawn describes it. */
export interface GpuAdapterInfo {
  /** Vendor, architecture and device joined, e.g. "nvidia hopper nvidia-h100-80gb-hbm3". */
  name: string;
  /** Dawn does not say whether a GPU is discrete or integrated: inferred from the vendor (software is certain). */
  kind: GpuAdapterKind;
  vendor: string;
  architecture: string;
  device: string;
  /** Dawn's description: on Vulkan the driver's name and version, e.g. "SwiftShader driver 5.0.0". */
  driver: string;
  /** WebGPU's isFallbackAdapter: the implementation says the adapter is a software one. */
  fallback: boolean;
  limits: Record<GpuTrainingLimit, number>;
}

export interface EngineInfo {
  active: BackendName;
  /** Human-readable device description, e.g. "CPU (2 cores, WebAssembly SIMD)". */
  device: string;
  /** True when the user named the backend (setting, --backend, selectBackend). */
  requested?: BackendName;
  backends: BackendProbe[];
  tfjsVersion: string;
  nodeVersion: string;
  /** Extra facts, e.g. native kernels registered on the active backend. */
  notes: string[];
}

/** What the probes found when no backend became active (the one named failed, or none trains). */
export type EngineProbeReport = Omit<EngineInfo, 'active' | 'device'> & { active: null };

/** LSP initializationOptions the extension sends to the sidecar. */
export interface SidecarInitializationOptions {
  /** The gowide.backend setting; absent or "auto" lets the engine pick the best backend that loads. */
  backend?: BackendName | 'auto';
}

export interface EngineInfoParams {
  /** Re-run the probes instead of answering from the cache. */
  refresh?: boolean;
}
export const EngineInfoRequest = new RequestType<EngineInfoParams, EngineInfo, void>('gowide/engineInfo');

export interface SelectBackendParams {
  backend: BackendName;
}
export const SelectBackendRequest = new RequestType<SelectBackendParams, EngineInfo, void>('gowide/selectBackend');

// ---------- experiments ----------

export interface ExperimentProblem {
  /** JSON path of the offending field, e.g. "model.depth" or "widen.perLayer[3]". Empty for the whole file. */
  field: string;
  message: string;
  /** What the user should do about it. */
  fix?: string;
  severity: 'error' | 'warning';
}

export interface ValidateExperimentParams {
  /** Path of a *.gowide.json file; text, when given, is validated instead of the file's contents. */
  path: string;
  text?: string;
}
export interface ValidateExperimentResult {
  ok: boolean;
  problems: ExperimentProblem[];
}
export const ValidateExperimentRequest = new RequestType<ValidateExperimentParams, ValidateExperimentResult, void>(
  'gowide/validateExperiment',
);

export const MODEL_FAMILIES = ['mlp', 'cnn', 'resnet', 'transformer'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

export interface CreateExperimentParams {
  /** Where to write the new NAME.gowide.json. */
  path: string;
  name: string;
  family: ModelFamily;
  depth?: number;
  width?: number;
  /** "idx" with dataPath, "csv" with dataPath, or a built-in data set name. */
  dataFormat?: string;
  dataPath?: string;
  widenFactor?: number;
  overwrite?: boolean;
}
export interface CreateExperimentResult {
  path: string;
  text: string;
}
export const CreateExperimentRequest = new RequestType<CreateExperimentParams, CreateExperimentResult, void>(
  'gowide/createExperiment',
);

// ---------- runs ----------

/** Stages of the method plus the baselines, as a user launches them. */
export const STAGE_NAMES = ['wide', 'imitate', 'finetune', 'baselines', 'all'] as const;
export type StageName = (typeof STAGE_NAMES)[number];
/** The thin nets "win" is compared with (method/stages/baselines.ts trains them): scratch and kd at
 *  the thin-net epoch budget, and the matched controls: scratch and kd at win's step count, scratch at
 *  win's training FLOPs (wide + imitation + fine-tune). */
export const BASELINE_NAMES = ['scratch', 'kd', 'scratch-steps', 'kd-steps', 'scratch-compute'] as const;
export type BaselineName = (typeof BASELINE_NAMES)[number];
/** The arms compared at the end of an experiment, in the order tables show them (the matched controls
 *  last, so the first four keep their place and colour). */
export const ARM_NAMES = ['wide', 'scratch', 'kd', 'win', 'scratch-steps', 'kd-steps', 'scratch-compute'] as const;
export type ArmName = (typeof ARM_NAMES)[number];
/** What a metric record was produced by, in the order a seed runs them. */
export const PHASE_NAMES = ['wide', 'imitate', 'finetune', ...BASELINE_NAMES] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

export type RunState = 'queued' | 'running' | 'stopped' | 'failed' | 'done';

// ---------- launchers (server/launch/) ----------

/** Where a run's jobs run: `local` processes on this machine, or `slurm` batch jobs (sbatch). */
export const LAUNCHER_NAMES = ['local', 'slurm'] as const;
export type LauncherName = (typeof LAUNCHER_NAMES)[number];
/** A job's state, in Slurm's words for both launchers (a local job: PENDING while it waits for its
 *  dependencies or a free slot, FAILED when its process died or training failed). */
export const JOB_STATES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED'] as const;
export type JobState = (typeof JOB_STATES)[number];
/** The jobs of one seed: the wide net, the three-stage thin net (imitate + finetune), each baseline. */
export type JobGroup = 'wide' | 'win' | BaselineName;

/** The launch options' defaults (the extension's settings show the same: test/unit/extension-manifest.test.ts). */
export const LAUNCH_DEFAULTS = { jobs: 1, maxRetries: 2 } as const;

/** How to run a run's job graph (server/launch/job-graph.ts); absent: one process, as always. */
export interface LaunchOptions {
  launcher: LauncherName;
  /** local: independent jobs run in this many processes at once (default 1). */
  jobs?: number;
  /** slurm: extra sbatch arguments, each as one word (e.g. "--partition=gpu"). */
  slurmOptions?: string[];
  /** slurm: GPUs to ask for per job (--gpus-per-job); the job then picks a GPU backend. */
  gpusPerJob?: number;
  /** slurm: return once the jobs are submitted instead of following them to the end. */
  detach?: boolean;
  /** A job that dies (process killed, node lost, out of time) is resubmitted from its last checkpoint
   *  this many times before the run fails (default 2). */
  maxRetries?: number;
}

/** One job of a run (the `jobs` of a launched run's summary and of `gowide run --json`). */
export interface JobStatus {
  /** The job's name in the run: "<group>-seed<seed>" (its folder: <runDir>/jobs/<name>/). */
  name: string;
  stage: JobGroup;
  seed: number;
  phases: PhaseName[];
  /** The launcher's id of the latest attempt (a Slurm job id, or "local-<pid>"); null before submission. */
  jobId: string | null;
  state: JobState;
  /** Why it waits or why it ended (Slurm's reason, or the process's exit). */
  reason?: string;
  /** Attempts so far (1 + resubmissions). */
  attempts: number;
  /** The latest attempt's log file. */
  log?: string;
}

export interface StartStageParams {
  experimentPath: string;
  stage: StageName;
  /** Continue this run (its folder name); absent starts a new run. */
  runId?: string;
  /** Resume the latest unfinished run of the experiment from its last checkpoint. */
  resume?: boolean;
  backend?: BackendName;
  runsDir?: string;
  /** Resolve only when the stage ends; cancelling the request then stops the run. */
  wait?: boolean;
  /** Train these seeds instead of the experiment's. */
  seeds?: number[];
  /** Run the run's job graph through a launcher (local processes or Slurm); absent: one process. */
  launch?: LaunchOptions;
}
/** Where a continued run picked up (the `resumedFrom` of `gowide run --resume --json`). */
export interface ResumedFrom {
  /** The last finished stage or block it continued from; null when nothing usable was committed. */
  stage: PhaseName | null;
  block: number | null;
  seed: number | null;
  checkpoint: string | null;
  /** Metric records after that point, dropped because their work is recomputed. */
  droppedMetrics: number;
  /** Bad checkpoints found and fallbacks taken. */
  messages: string[];
}
export interface StartStageResult {
  runId: string;
  runDir: string;
  /** The backend the run trains on. */
  backend?: BackendName;
  /** Present when wait was set. */
  summary?: RunSummary;
  /** Present when wait was set and an existing run was continued. */
  resumedFrom?: ResumedFrom;
  /** Present when wait was set (absent if the nets could not be built): each arm's cost. */
  sizes?: ThinAndWideSizes;
}
export const StartStageRequest = new RequestType<StartStageParams, StartStageResult, void>('gowide/startStage');

// ---------- sweeps (an experiment file's "sweep": one run per grid point, one after another) ----------

export interface StartSweepParams extends Pick<StartStageParams, 'experimentPath' | 'backend' | 'runsDir' | 'seeds'> {
  /** The stages each point runs (default all). */
  stage?: StageName;
  /** Continue the newest unfinished sweep of the experiment: finished points are kept, a point's
   *  unfinished run resumes from its last checkpoint, points not started yet start. */
  resume?: boolean;
  /** Resolve when the last point ends; cancelling the request then stops the sweep. */
  wait?: boolean;
  /** Run each point's job graph through a launcher: Slurm gets every point's jobs at once, the local
   *  launcher runs the points one after another, each with its `jobs` processes. */
  launch?: LaunchOptions;
}
export interface SweepPointResult {
  /** The point's value of each swept field, e.g. {"widen.factor": 2}. */
  values: Record<string, unknown>;
  /** Absent for a point not started (the sweep was stopped first). */
  runId?: string;
  runDir?: string;
  /** With wait: the point's run summary (as listRuns gives it, without the sweep membership it is read for). */
  summary?: RunSummary;
  /** With wait: the thin and the wide net's size (each arm's cost). */
  sizes?: ThinAndWideSizes;
}
export interface StartSweepResult {
  sweepId: string;
  /** The folder holding sweep.json (the points' runs are beside it in the runs folder). */
  sweepDir: string;
  backend?: BackendName;
  points: SweepPointResult[];
}
export const StartSweepRequest = new RequestType<StartSweepParams, StartSweepResult, void>('gowide/startSweep');
export interface SweepResultsParams {
  experimentPath: string;
  runsDir?: string;
}
/** The newest sweep of the experiment as it stands (points' summaries and sizes; null: none yet). */
export const SweepResultsRequest = new RequestType<SweepResultsParams, StartSweepResult | null, void>('gowide/sweepResults');

export interface StopParams {
  runId: string;
  /** The folder holding the run: lets a sidecar that did not start a launched run (restarted since, or
   *  the run detached) cancel its jobs. */
  runsDir?: string;
}
export interface StopResult {
  stopped: boolean;
}
export const StopRequest = new RequestType<StopParams, StopResult, void>('gowide/stop');

export interface ArmResult {
  accuracy: { mean: number; std: number; perSeed: number[] };
  params: number;
  seconds: number;
}

export interface StageStatus {
  stage: PhaseName;
  state: RunState;
  /** Imitated blocks: index, state and last loss; `from` (below index) when blocks from..index
   *  imitated together as one group. */
  blocks?: { index: number; from?: number; state: BlockState; loss?: number; startLoss?: number }[];
  lastLoss?: number;
  accuracy?: number;
}
export type BlockState = 'queued' | 'running' | 'converged' | 'diverging' | 'failed' | 'done';

/** What the three stages looked like from the inside (shown by the CLI and the UI). */
export interface RunDiagnostics {
  /** Validation accuracy of the wide net, per seed. */
  wideValidationAccuracy: number[];
  /** Validation accuracy of the thin net right after imitation, before fine-tuning, per seed. */
  warmStartAccuracy: number[];
  /** The thin net took the wide net's stem and head (widen mode "inside"). */
  headShared?: boolean;
  /** Imitation loss on validation examples at the start and end of each block's phase. */
  /** deadUnits of units: output units that never fire on validation examples after the block's phase. */
  /** firstBlock (below block) when blocks firstBlock..block imitated together as one group. */
  imitation: { seed: number; block: number; firstBlock?: number; startLoss: number; endLoss: number; deadUnits?: number; units?: number }[];
  /** Mean seconds per phase over seeds. */
  stageSeconds: Partial<Record<PhaseName, number>>;
  /** The exported thin net (TF.js LayersModel folder) and its test accuracy. */
  model?: { path: string; seed: number; testAccuracy: number };
}

/** Win minus one baseline, seed by seed (a seed fixes the split, initialisation and batch order of
 *  every arm): accuracy differences as fractions. */
export interface PairedDifference {
  mean: number;
  /** The 95% interval of the mean difference (t distribution, seeds - 1 degrees of freedom); absent
   *  with one seed. */
  low?: number;
  high?: number;
  /** Seeds where win is strictly ahead. */
  ahead: number;
  seeds: number;
}
export type PairName = `win-${BaselineName}`;

export interface RunSummary {
  runId: string;
  runDir: string;
  experiment: string;
  experimentPath: string;
  state: RunState;
  startedAt: string;
  backend?: BackendName;
  stages: StageStatus[];
  arms: Partial<Record<ArmName, ArmResult>>;
  /** Win minus each baseline that ran on the same seeds as win. */
  paired?: Partial<Record<PairName, PairedDifference>>;
  error?: string;
  diagnostics?: RunDiagnostics;
  /** A run launched as a job graph: its launcher and every job's state. */
  launcher?: LauncherName;
  jobs?: JobStatus[];
  /** A point of a sweep: set by listRuns from the sweep folders of the runs folder it lists. */
  sweep?: SweepMembership;
}

/** Which sweep a run is a point of (its NAME-sweep-DATE folder in the same runs folder), and where. */
export interface SweepMembership {
  sweepId: string;
  /** The point's value of each swept field, e.g. {"widen.factor": 4}. */
  values: Record<string, unknown>;
  /** The sweep's whole grid, e.g. {"widen.factor": [2, 4, 8]}: also the points not started yet. */
  grid: Record<string, unknown[]>;
}

export interface ListRunsParams {
  experimentPath?: string;
  runsDir?: string;
}
export const ListRunsRequest = new RequestType<ListRunsParams, RunSummary[], void>('gowide/listRuns');

export interface MetricRecord {
  runId: string;
  /** Sequence number within the run, strictly increasing: no duplicates, no gaps. */
  seq: number;
  seed: number;
  phase: PhaseName;
  /** Imitation block index (0-based), for phase "imitate". */
  block?: number;
  /** Optimisation step within the phase (and block). */
  step: number;
  /** Epochs of the phase done (a fraction after a partial one); on the warm-start record (phase
   *  "imitate", no block, split "validation") the epochs of the thin net's budget imitation spent. */
  epoch?: number;
  loss: number;
  /** Normalised imitation MSE of the block being trained. */
  imitationLoss?: number;
  /** Accuracy on the validation split (during training) or on the test split (final, with split "test"). */
  accuracy?: number;
  split?: 'train' | 'validation' | 'test';
  /** Milliseconds since the epoch. */
  time: number;
}

export interface GetMetricsParams {
  runId: string;
  runsDir?: string;
  /** Only records with seq greater than this. */
  afterSeq?: number;
}
export const GetMetricsRequest = new RequestType<GetMetricsParams, MetricRecord[], void>('gowide/getMetrics');

// ---------- run folders (explorer actions) ----------

export interface RunRefParams {
  runId: string;
  /** The folder holding the run; absent: the folder of runs this sidecar started, else next to experimentPath. */
  runsDir?: string;
  experimentPath?: string;
}
export interface DeleteRunResult {
  deleted: boolean;
  runDir: string;
}
/** Deletes a run folder; refused while the run is in progress. */
export const DeleteRunRequest = new RequestType<RunRefParams, DeleteRunResult, void>('gowide/deleteRun');

export interface ExportModelParams extends RunRefParams {
  /** Folder to copy the run's thin model (TF.js LayersModel: model.json + weights) into; created if missing. */
  destination: string;
  overwrite?: boolean;
}
export interface ExportModelResult {
  path: string;
  files: string[];
}
export const ExportModelRequest = new RequestType<ExportModelParams, ExportModelResult, void>('gowide/exportModel');

// ---------- net sizes (the widening-factor table) ----------

export interface PartSize {
  /** Trainable parameters and multiply-accumulates per example. */
  params: number;
  flops: number;
}

export interface BlockSize {
  index: number;
  /** The width the factor multiplies (units, channels or hidden size) in the thin and the wide net. */
  thinWidth: number;
  wideWidth: number;
  factor: number;
  thin: PartSize;
  wide: PartSize;
}

/** The size of the two nets a run trains: the arm "wide" trains the wide net, every other arm the thin net. */
export interface ThinAndWideSizes {
  thin: PartSize;
  wide: PartSize;
}

export interface NetSizesParams {
  /** Path of a *.gowide.json file; text, when given, is used instead of the file's contents. */
  path: string;
  text?: string;
}
export interface NetSizesResult {
  family: ModelFamily;
  mode: 'inside' | 'all';
  /** widen.factor and widen.perLayer as the file has them. */
  factor: number;
  perLayer?: number[];
  blocks: BlockSize[];
  /** Whole nets (stem + blocks + head). */
  thin: PartSize;
  wide: PartSize;
  /** Errors that stopped the table (then blocks is empty) and warnings. */
  problems: ExperimentProblem[];
}
/** Exact per-block parameters and FLOPs of the thin and wide nets an experiment describes (built, not estimated). */
export const NetSizesRequest = new RequestType<NetSizesParams, NetSizesResult, void>('gowide/netSizes');

// ---------- notifications (sidecar -> client) ----------

export interface ProgressParams {
  runId: string;
  phase: PhaseName;
  seed: number;
  block?: number;
  /** 0..1 of the whole run. */
  fraction: number;
  message: string;
  /** Estimated seconds left in the run. */
  etaSeconds?: number;
}
export const ProgressNotification = new NotificationType<ProgressParams>('gowide/progress');

export interface MetricsParams {
  runId: string;
  records: MetricRecord[];
}
export const MetricsNotification = new NotificationType<MetricsParams>('gowide/metrics');

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export interface LogParams {
  level: LogLevel;
  message: string;
}
export const LogNotification = new NotificationType<LogParams>('gowide/log');

export interface RunStateParams {
  run: RunSummary;
}
export const RunStateNotification = new NotificationType<RunStateParams>('gowide/runState');

// ---------- webview messages (extension <-> webview over postMessage) ----------

/** The fine-tuning settings the imitation monitor lets the user edit before launching the stage. */
export const FINETUNE_SETTING_KEYS = ['epochs', 'kdWeight', 'temperature', 'learningRate'] as const;
export type FinetuneSettingKey = (typeof FINETUNE_SETTING_KEYS)[number];
export type FinetuneSettings = Record<FinetuneSettingKey, number>;

/** The allowed values of a numeric setting, as the experiment schema states them. */
export interface NumberRange {
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  integer: boolean;
}

/** One editable setting as the sidecar resolves it: the file's value (or the default), the default, the range. */
export interface SettingField {
  key: FinetuneSettingKey;
  label: string;
  description: string;
  value: number;
  default: number;
  range: NumberRange;
}

export interface FinetuneSettingsParams {
  /** Path of the *.gowide.json file. */
  path: string;
}
export interface FinetuneSettingsResult {
  fields: SettingField[];
}
/** The experiment's fine-tuning settings resolved by the sidecar (defaults filled in), with their ranges. */
export const FinetuneSettingsRequest = new RequestType<FinetuneSettingsParams, FinetuneSettingsResult, void>('gowide/finetuneSettings');

export type ToWebviewMessage =
  | { type: 'engine'; info: EngineInfo }
  /** A run's state changed (after its snapshot). */
  | { type: 'run'; run: RunSummary }
  /** Everything known of a run so far: its summary, progress and every metric record in seq order.
   *  Replaces what the view held of that run; 'metrics', 'run' and 'progress' follow. */
  | { type: 'snapshot'; run: RunSummary; records: MetricRecord[]; progress?: ProgressParams }
  /** Records of a run after its snapshot: new ones only, in seq order (the host's run feed de-duplicates). */
  | { type: 'metrics'; runId: string; records: MetricRecord[] }
  | { type: 'reset' }
  /** Widening table: the experiment's blocks with thin/wide widths, params and FLOPs. */
  | { type: 'netSizes'; experimentPath: string; sizes: NetSizesResult }
  /** Widening view: the experiment's newest sweep, every arm against the swept values. */
  | { type: 'sweep'; sweep: StartSweepResult }
  | { type: 'progress'; progress: ProgressParams }
  /** Runs to choose from (loss view) or to compare; selected is the run shown. */
  | { type: 'runs'; runs: RunSummary[]; selected?: string }
  /** The experiment file's fine-tuning settings, the defaults of the monitor's launch form. */
  | { type: 'finetuneSettings'; fields: SettingField[] }
  /** Something the host wants the user to read (a failed request, a saved file). */
  | { type: 'notice'; level: 'info' | 'error'; message: string };

export type FromWebviewMessage =
  | { type: 'ready' }
  | { type: 'setFactor'; block: number | 'all'; factor: number }
  /** Widening view: write "sweep": {"widen.factor": factors} into the file and run the sweep. */
  | { type: 'startSweep'; factors: number[] }
  | { type: 'startStage'; stage: StageName; settings?: Record<string, number> }
  | { type: 'stop'; runId: string }
  | { type: 'export'; format: 'csv' | 'png'; data: string; fileName?: string }
  /** Loss view: show this run. */
  | { type: 'selectRun'; runId: string };
