// The training and run commands through the Ui wrapper, on recorded runs: trust, readiness reasons,
// the selection from explorer items / lens targets, continuing the right run, the finished result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CommandContext } from '../../extension/command-context';
import { COMMANDS } from '../../extension/commands';
import { targetFromArgument } from '../../extension/selection';
import type { LaunchSettingValues } from '../../extension/launch-choice';
import type { PickRow, Ui } from '../../extension/ui';
import type { RunSummary, StartStageParams } from '../../server/protocol';
import { recordedSummary } from '../sidecar/editor-fixture';

const EXPERIMENT = '/work/quickstart.gowide.json';

interface LaunchSetup {
  /** The launcher settings as set (launchSettingValues). */
  values?: LaunchSettingValues;
  /** Whether sbatch is on PATH. */
  slurm?: boolean;
  /** The label of the row to choose in a quick pick; absent: dismiss it. */
  choose?: string;
}

function harness(options: { trusted?: boolean; runs?: RunSummary[]; finished?: RunSummary; answer?: string; activeEditor?: string; launch?: LaunchSetup }) {
  const messages: string[] = [];
  const started: StartStageParams[] = [];
  const opened: string[] = [];
  const stopped: string[] = [];
  const picks: { title: string; rows: string[] }[] = [];
  const savedLaunchers: string[] = [];
  const ui: Ui = {
    async pick<T>(rows: PickRow<T>[], pickOptions: { title: string }): Promise<T | undefined> {
      picks.push({ title: pickOptions.title, rows: rows.filter((r) => !r.separator).map((r) => r.label) });
      return rows.find((r) => !r.separator && r.label === options.launch?.choose)?.value;
    },
    input: async () => undefined,
    info: async (m) => (messages.push(`info: ${m}`), options.answer),
    warn: async (m) => (messages.push(`warn: ${m}`), undefined),
    error: async (m) => (messages.push(`error: ${m}`), undefined),
    showMarkdown: async () => undefined,
    openFile: async (file) => void opened.push(`file ${file}`),
    workspaceFolders: () => [],
    isWorkspaceTrusted: () => options.trusted ?? true,
    activeEditorPath: () => options.activeEditor,
    confirm: async () => true,
    pickFolder: async () => undefined,
    revealInOs: async () => undefined,
  };
  const ctx = {
    ui,
    webviews: {
      openWideningConfig: async (p: string) => void opened.push(`widening ${p}`),
      openImitationMonitor: async (runId: string, p: string) => void opened.push(`monitor ${runId} ${p}`),
      openCompareRuns: async (p: string) => void opened.push(`compare ${p}`),
    },
    executeCommand: async () => undefined,
    refreshExperiments: () => undefined,
    showLog: () => undefined,
    findExperiments: async () => [EXPERIMENT],
    listRuns: async () => options.runs ?? [],
    startStage: async (p: StartStageParams) => (started.push(p), { runId: p.runId ?? 'new-run', runDir: '/work/.gowide-runs/new-run' }),
    followRun: async (runId: string) => options.finished ?? { ...recordedSummary(EXPERIMENT), runId, state: 'done' },
    stopRun: async (runId: string, runsDir?: string) => (stopped.push(runsDir ? `${runId} in ${runsDir}` : runId), true),
    launchSettingValues: () => options.launch?.values ?? {},
    saveLauncher: async (launcher: string) => void savedLaunchers.push(launcher),
    slurmFound: () => options.launch?.slurm ?? false,
  } as unknown as CommandContext;
  const run = (id: string, ...args: unknown[]) => COMMANDS[id](ctx)(...args) as Promise<void>;
  return { run, messages, started, opened, stopped, picks, savedLaunchers };
}

test('targets come from explorer nodes, lens targets, URIs and paths', () => {
  assert.deepEqual(targetFromArgument({ kind: 'run', experimentPath: EXPERIMENT, runId: 'r1' }), { experimentPath: EXPERIMENT, runId: 'r1' });
  assert.deepEqual(targetFromArgument({ kind: 'experiment', uri: { fsPath: EXPERIMENT } }), { experimentPath: EXPERIMENT });
  assert.deepEqual(targetFromArgument({ fsPath: EXPERIMENT, scheme: 'file' }), { experimentPath: EXPERIMENT });
  assert.deepEqual(targetFromArgument('file:///work/quickstart.gowide.json'), { experimentPath: EXPERIMENT });
  assert.equal(targetFromArgument('/work/notes.json'), undefined);
  assert.equal(targetFromArgument(undefined), undefined);
});

test('training commands refuse in an untrusted workspace', async () => {
  const h = harness({ trusted: false });
  await h.run('gowide.runAll', { experimentPath: EXPERIMENT });
  assert.equal(h.started.length, 0);
  assert.match(h.messages[0], /^warn: Go Wide: Run All Stages needs a trusted workspace/);
});

test('a stage that is not ready says why and starts nothing', async () => {
  const h = harness({ runs: [] });
  await h.run('gowide.startImitation', { experimentPath: EXPERIMENT });
  assert.equal(h.started.length, 0);
  assert.match(h.messages[0], /cannot start layerwise imitation yet: no run has a trained wide network/);
});

test('fine-tuning continues the run that finished imitation; the result offers Compare Runs', async () => {
  const recorded = recordedSummary(EXPERIMENT);
  const finished: RunSummary = {
    ...recorded,
    state: 'done',
    arms: { win: { accuracy: { mean: 0.9, std: 0, perSeed: [0.9] }, params: 1, seconds: 1 }, scratch: { accuracy: { mean: 0.85, std: 0, perSeed: [0.85] }, params: 1, seconds: 1 } },
  };
  const h = harness({ runs: [recorded], finished, answer: 'Compare Runs', activeEditor: EXPERIMENT });
  await h.run('gowide.launchFinetune');
  assert.deepEqual(h.started, [{ experimentPath: EXPERIMENT, stage: 'finetune', runId: recorded.runId }]);
  assert.match(h.messages.at(-1)!, /finished: win 90\.0% vs scratch 85\.0% \(\+5\.0 points\)/);
  assert.deepEqual(h.opened, [`compare ${EXPERIMENT}`]);
});

test('resume runs the stages left on the stopped run; stop sends the run id of a lens target', async () => {
  const recorded = recordedSummary(EXPERIMENT);
  const h = harness({ runs: [recorded] });
  await h.run('gowide.resume', { experimentPath: EXPERIMENT, runId: recorded.runId });
  assert.deepEqual(h.started, [{ experimentPath: EXPERIMENT, stage: 'baselines', runId: recorded.runId }]);
  await h.run('gowide.stop', { experimentPath: EXPERIMENT, runId: recorded.runId });
  // With the folder that holds it, so a restarted sidecar can still cancel a launched run's jobs.
  assert.deepEqual(h.stopped, [`${recorded.runId} in ${dirname(recorded.runDir)}`]);
});

test('open imitation monitor picks the run with imitation and passes it to the webview', async () => {
  const recorded = recordedSummary(EXPERIMENT);
  const h = harness({ runs: [recorded] });
  await h.run('gowide.openImitationMonitor', { kind: 'experiment', uri: { fsPath: EXPERIMENT } });
  assert.deepEqual(h.opened, [`monitor ${recorded.runId} ${EXPERIMENT}`]);
});

// ---------- where Run All Stages runs the jobs (launch-choice.ts) ----------

const ALL = { experimentPath: EXPERIMENT };
const startedAll = (extra: Partial<StartStageParams> = {}): StartStageParams[] => [{ experimentPath: EXPERIMENT, stage: 'all', runId: undefined, ...extra }];

test('Run All Stages with no launcher set and no sbatch on PATH: one process, no question', async () => {
  const h = harness({ runs: [] });
  await h.run('gowide.runAll', ALL);
  assert.deepEqual(h.picks, []);
  assert.deepEqual(h.started, startedAll());
  // gowide.localJobs above 1 runs the jobs in that many processes on this machine.
  const parallel = harness({ runs: [], launch: { values: { localJobs: 3 } } });
  await parallel.run('gowide.runAll', ALL);
  assert.deepEqual(parallel.started, startedAll({ launch: { launcher: 'local', jobs: 3 } }));
});

test('Run All Stages where sbatch is found and no launcher set: asks, and Slurm gets the settings\' sbatch options', async () => {
  const values = { slurmOptions: ['--partition=debug'], gpusPerJob: 1, maxRetries: 1 };
  const h = harness({ runs: [], launch: { values, slurm: true, choose: 'Slurm cluster (sbatch)' } });
  await h.run('gowide.runAll', ALL);
  assert.equal(h.picks.length, 1);
  assert.match(h.picks[0].title, /where do the jobs run/);
  assert.equal(h.picks[0].rows[0], 'This machine');
  assert.ok(h.picks[0].rows.includes('Slurm cluster (sbatch)'), JSON.stringify(h.picks[0].rows));
  assert.deepEqual(h.started, startedAll({ launch: { launcher: 'slurm', slurmOptions: ['--partition=debug'], gpusPerJob: 1, maxRetries: 1 } }));
  assert.deepEqual(h.savedLaunchers, [], 'a plain choice is not remembered');
  // "This machine" is one process, as without a launcher.
  const here = harness({ runs: [], launch: { slurm: true, choose: 'This machine' } });
  await here.run('gowide.runAll', ALL);
  assert.deepEqual(here.started, startedAll());
});

test('"Always" writes gowide.launcher; dismissing the question starts nothing', async () => {
  const always = harness({ runs: [], launch: { slurm: true, choose: 'Always Slurm cluster (sbatch)' } });
  await always.run('gowide.runAll', ALL);
  assert.deepEqual(always.savedLaunchers, ['slurm']);
  assert.deepEqual(always.started, startedAll({ launch: { launcher: 'slurm', maxRetries: 2 } }));
  const dismissed = harness({ runs: [], launch: { slurm: true } });
  await dismissed.run('gowide.runAll', ALL);
  assert.deepEqual(dismissed.started, []);
  assert.deepEqual(dismissed.messages, []);
});

test('gowide.launcher set: used without asking, even where sbatch is found', async () => {
  const local = harness({ runs: [], launch: { values: { launcher: 'local' }, slurm: true } });
  await local.run('gowide.runAll', ALL);
  assert.deepEqual(local.picks, []);
  assert.deepEqual(local.started, startedAll());
  const slurm = harness({ runs: [], launch: { values: { launcher: 'slurm' }, slurm: true } });
  await slurm.run('gowide.runAll', ALL);
  assert.deepEqual(slurm.picks, []);
  assert.deepEqual(slurm.started, startedAll({ launch: { launcher: 'slurm', maxRetries: 2 } }));
  // The other stage commands run in the sidecar's process: no question, no launch.
  const wide = harness({ runs: [], launch: { slurm: true } });
  await wide.run('gowide.trainWide', ALL);
  assert.deepEqual(wide.picks, []);
  assert.deepEqual(wide.started, [{ experimentPath: EXPERIMENT, stage: 'wide', runId: undefined }]);
});

test('a wrong launcher setting is named with the fix and nothing starts', async () => {
  const h = harness({ runs: [], launch: { values: { launcher: 'kubernetes' }, slurm: true } });
  await h.run('gowide.runAll', ALL);
  assert.deepEqual(h.started, []);
  assert.match(h.messages[0], /^error: Go Wide: gowide\.launcher is "kubernetes"; set it to "local" or "slurm", or remove it to be asked\./);
});

test('Resume of a launched run resumes its plan (resume, no stage by stage); Open Job Log opens the log or says why not', async () => {
  const recorded = recordedSummary(EXPERIMENT);
  const launched: RunSummary = { ...recorded, launcher: 'slurm', jobs: [] };
  const h = harness({ runs: [launched] });
  await h.run('gowide.resume', { experimentPath: EXPERIMENT, runId: launched.runId });
  assert.deepEqual(h.started, [{ experimentPath: EXPERIMENT, stage: 'all', runId: launched.runId, resume: true }]);
  // A stage on its own does not continue a launched run (the sidecar would refuse): the message says what does.
  await h.run('gowide.launchFinetune', { experimentPath: EXPERIMENT, runId: launched.runId });
  assert.equal(h.started.length, 1);
  assert.match(h.messages.at(-1)!, /^warn: Go Wide: quickstart-\S+ ran as slurm jobs, which finish their plan together: Resume finishes it, Run All Stages starts a new run\.$/);
  const job = { name: 'win-seed1', stage: 'win', seed: 1, phases: ['imitate', 'finetune'], jobId: null, state: 'PENDING', attempts: 0 };
  await h.run('gowide.openJobLog', { kind: 'job', job });
  assert.match(h.messages.at(-1)!, /^info: Go Wide: win-seed1 has no log yet/);
  await h.run('gowide.openJobLog', { kind: 'job', job: { ...job, jobId: '17', log: '/nonexistent/jobs/win-seed1.attempt1.log' } });
  assert.match(h.messages.at(-1)!, /^warn: Go Wide: the log of win-seed1 is gone \(\/nonexistent\/jobs\/win-seed1\.attempt1\.log\)/);
  const log = join(mkdtempSync(join(tmpdir(), 'gowide-job-log-')), 'win-seed1.attempt1.log');
  writeFileSync(log, 'epoch 1\n');
  await h.run('gowide.openJobLog', { kind: 'job', job: { ...job, jobId: '17', log } });
  assert.deepEqual(h.opened, [`file ${log}`]);
});
