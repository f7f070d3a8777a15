// The training and run commands through the Ui wrapper, on recorded runs: trust, readiness reasons,
// the selection from explorer items / lens targets, continuing the right run, the finished result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CommandContext } from '../../extension/command-context';
import { COMMANDS } from '../../extension/commands';
import { targetFromArgument } from '../../extension/selection';
import type { Ui } from '../../extension/ui';
import type { RunSummary, StartStageParams } from '../../server/protocol';
import { recordedSummary } from '../sidecar/editor-fixture';

const EXPERIMENT = '/work/quickstart.gowide.json';

function harness(options: { trusted?: boolean; runs?: RunSummary[]; finished?: RunSummary; answer?: string; activeEditor?: string }) {
  const messages: string[] = [];
  const started: StartStageParams[] = [];
  const opened: string[] = [];
  const stopped: string[] = [];
  const ui: Ui = {
    pick: async () => undefined,
    input: async () => undefined,
    info: async (m) => (messages.push(`info: ${m}`), options.answer),
    warn: async (m) => (messages.push(`warn: ${m}`), undefined),
    error: async (m) => (messages.push(`error: ${m}`), undefined),
    showMarkdown: async () => undefined,
    openFile: async () => undefined,
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
    stopRun: async (runId: string) => (stopped.push(runId), true),
  } as unknown as CommandContext;
  const run = (id: string, ...args: unknown[]) => COMMANDS[id](ctx)(...args) as Promise<void>;
  return { run, messages, started, opened, stopped };
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
  assert.deepEqual(h.stopped, [recorded.runId]);
});

test('open imitation monitor picks the run with imitation and passes it to the webview', async () => {
  const recorded = recordedSummary(EXPERIMENT);
  const h = harness({ runs: [recorded] });
  await h.run('gowide.openImitationMonitor', { kind: 'experiment', uri: { fsPath: EXPERIMENT } });
  assert.deepEqual(h.opened, [`monitor ${recorded.runId} ${EXPERIMENT}`]);
});
