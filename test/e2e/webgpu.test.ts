// End-to-end on the GPU backend: the linux-x64 package, which carries Dawn, installed into code-server
// with SwiftShader (Debian chromium's Vulkan driver on the CPU) as the only Vulkan driver and
// gowide.backend "webgpu" in the workspace settings; Run All Stages from the UI trains a tiny
// experiment on webgpu, and the status bar names that backend.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { defaultRunsDir } from '../../server/runs/names';
import { requireWebgpu, SWIFTSHADER_ICD, swiftshaderEnv, swiftshaderFound } from '../unit/swiftshader';
import { E2E_ARTIFACTS, installTools, packageExtension, ROOT, startWorkbench, type Workbench } from './code-server';
import { Scenario } from './scenario';
import { stateOfIcon, Ui } from './workbench-ui';

/** gpu.gowide.json and .vscode/settings.json naming the webgpu backend. */
const FIXTURE = join(ROOT, 'test/e2e/workspace-webgpu');
/** The run takes about 20 s on SwiftShader here; this bounds a stuck one. */
const RUN_TIMEOUT = 180_000;
const STATUS_WEBGPU = /gowide: webgpu\b/;

let workbench: Workbench | undefined;
let ui: Ui;
const scenario = new Scenario();
const step = scenario.step.bind(scenario);

const missing = swiftshaderFound() ? undefined : `SwiftShader's Vulkan driver is missing (${SWIFTSHADER_ICD}): apt-get install chromium libvulkan1`;
if (missing && requireWebgpu) throw new Error(missing);

describe('gowide on webgpu in VS Code (code-server, SwiftShader, through the UI)', { timeout: 10 * 60_000, skip: missing }, () => {
  before(async () => {
    const started = Date.now();
    const tools = installTools();
    const vsix = packageExtension();
    workbench = await startWorkbench({ tools, vsix, fixture: FIXTURE, env: swiftshaderEnv({}) });
    ui = new Ui(workbench.page, join(E2E_ARTIFACTS, 'webgpu'));
    scenario.ui = ui;
    console.log(`e2e webgpu: tools, package and code-server ready in ${((Date.now() - started) / 1000).toFixed(1)} s; workspace ${workbench.workspace}`);
  });

  after(async () => {
    if (scenario.failed && workbench) console.log(`e2e webgpu: code-server output (tail):\n${workbench.log().slice(-3000)}`);
    await workbench?.close();
  });

  step('the sidecar starts on webgpu and the status bar names it', async () => {
    await ui.openGoWideExplorer('gpu');
    await ui.waitFor(
      'the status bar to name the webgpu backend ("gowide: webgpu")',
      async () => (await ui.statusBarTexts()).some((text) => STATUS_WEBGPU.test(text)),
      120_000,
      async () => JSON.stringify(await ui.statusBarTexts()),
    );
  });

  step('Run All Stages trains the experiment on webgpu', async () => {
    await ui.focusEditor('gpu.gowide.json');
    await ui.runCommand('Go Wide: Run All Stages');
    await ui.expand('gpu', 30_000);
    await ui.waitFor(
      'the run to finish in the explorer',
      async () => {
        const run = (await ui.treeRows()).find((row) => /^gpu · /.test(row.label));
        return run !== undefined && stateOfIcon(run.icon) === 'done';
      },
      RUN_TIMEOUT,
      () => ui.describeTree(),
    );
    const runsDir = defaultRunsDir(join(workbench!.workspace, 'gpu.gowide.json'));
    const runs = readdirSync(runsDir);
    assert.equal(runs.length, 1, `runs: ${runs.join(', ')}`);
    const summary = JSON.parse(readFileSync(join(runsDir, runs[0], 'summary.json'), 'utf8')) as { backend: string; state: string; stages: Array<{ stage: string; state: string }> };
    assert.equal(summary.backend, 'webgpu', 'the run trained on another backend');
    assert.deepEqual(summary.stages.map((s) => [s.stage, s.state]), [['wide', 'done'], ['imitate', 'done'], ['finetune', 'done']]);
    assert.ok((await ui.statusBarTexts()).some((text) => STATUS_WEBGPU.test(text)), JSON.stringify(await ui.statusBarTexts()));
  });
});
