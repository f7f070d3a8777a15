// Every command of the extension, one small function each, in one table (as rust-analyzer does).
// Only type imports from the editor side, so the table loads in plain Node for tests.
import * as path from 'node:path';
import type { EngineInfo, ModelFamily } from '../server/protocol';
import { messageOf, type CommandFactory } from './command-context';
import { askExperimentShape } from './new-experiment-flow';
import { RUN_COMMANDS } from './run-commands';
import { TRAINING_COMMANDS } from './training-commands';
import type { BackendChoice } from './engine-info-view';
import { BACKEND_CHOICES, backendRowIcon, backendRows, engineInfoMarkdown } from './engine-info-view';

export { ensureTrusted, messageOf } from './command-context';
export type { CommandContext, CommandFactory, CommandHandler } from './command-context';

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

/** A guided flow: folder, name, family, then depth, width, data set and widening factor. */
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
  const shape = await askExperimentShape(ctx.ui, family);
  if (!shape) return;
  try {
    const result = await ctx.createExperiment({ path: path.join(folder.fsPath, `${name}.gowide.json`), name, family, ...shape });
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
  ...TRAINING_COMMANDS,
  ...RUN_COMMANDS,
};
