// End-to-end: the packaged extension in a real VS Code (code-server 4.139 = Code 1.139), driven through
// the UI only with playwright-core and Debian's Chromium. One scenario, in order; a step that fails
// skips the rest. Screenshots of every step go to test/e2e/artifacts (GOWIDE_E2E_ARTIFACTS).
// The webgpu scenario (Dawn through SwiftShader) is webgpu.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { Frame } from 'playwright-core';
import { E2E_ARTIFACTS, installTools, packageExtension, ROOT, startWorkbench, type Workbench } from './code-server';
import { Scenario } from './scenario';
import { Abort, stateOfIcon, Ui, type TreeRow } from './workbench-ui';
import { saveDocScreenshots } from './doc-screenshots';

const FIXTURE = join(ROOT, 'test/e2e/workspace');
/** A full Run All Stages of the fixture takes well under a minute here; this bounds a stuck one. */
const RUN_TIMEOUT = 240_000;

let workbench: Workbench | undefined;
let ui: Ui;
const scenario = new Scenario();
const step = scenario.step.bind(scenario);

const runRow = (rows: TreeRow[]) => rows.find((r) => /^fashion · /.test(r.label));
const STAGE_LABELS = ['Wide network', 'Layerwise imitation', 'Fine-tuning', 'Baseline: scratch', 'Baseline: distillation'];

/** Watches the explorer until the newest fashion run is done, recording every state each row showed. */
async function followRunInExplorer(until: (run: TreeRow) => boolean, what: string): Promise<Map<string, Set<string>>> {
  const seen = new Map<string, Set<string>>();
  await ui.waitFor(
    what,
    async () => {
      // Rows appear as the run goes: expand the run, then its imitation stage, as soon as they exist.
      const rows = await ui.treeRows();
      const run = runRow(rows);
      if (run && run.expanded === 'false') await ui.expand(/^fashion · /).catch(() => undefined);
      const imitate = rows.find((r) => r.label === 'Layerwise imitation');
      if (imitate && imitate.expanded === 'false') await ui.expand('Layerwise imitation').catch(() => undefined);
      for (const row of await ui.treeRows()) {
        if (!STAGE_LABELS.includes(row.label) && !/^Block \d+$/.test(row.label) && !/^fashion · /.test(row.label)) continue;
        const key = /^fashion · /.test(row.label) ? 'run' : row.label;
        const states = seen.get(key) ?? new Set<string>();
        states.add(stateOfIcon(row.icon));
        seen.set(key, states);
      }
      const now = runRow(await ui.treeRows());
      return now !== undefined && until(now);
    },
    RUN_TIMEOUT,
    () => ui.describeTree(),
  );
  return seen;
}

const describeSeen = (seen: Map<string, Set<string>>) => JSON.stringify(Object.fromEntries([...seen].map(([k, v]) => [k, [...v]])));

const focusExperiment = (name: string) => ui.focusEditor(`${name}.gowide.json`);

describe('gowide in VS Code (code-server, through the UI)', { timeout: 20 * 60_000 }, () => {
  before(async () => {
    const started = Date.now();
    const tools = installTools();
    const vsix = packageExtension();
    workbench = await startWorkbench({ tools, vsix, fixture: FIXTURE });
    ui = new Ui(workbench.page, E2E_ARTIFACTS);
    scenario.ui = ui;
    console.log(`e2e: tools, package and code-server ready in ${((Date.now() - started) / 1000).toFixed(1)} s; workspace ${workbench.workspace}`);
  });

  after(async () => {
    if (scenario.failed && workbench) console.log(`e2e: code-server output (tail):\n${workbench.log().slice(-3000)}`);
    await workbench?.close();
  });

  step('workbench opens with the Go Wide explorer', async () => {
    await ui.openGoWideExplorer('fashion');
    await ui.waitFor('the sidecar in the status bar ("gowide: <backend>")', async () => (await ui.statusBarTexts()).some((t) => /gowide: (wasm|cpu|tensorflow|webgpu)/.test(t)), 90_000, async () => JSON.stringify(await ui.statusBarTexts()));
  });

  step('New Experiment creates a file and it appears in the explorer', async () => {
    await ui.runCommand('Go Wide: New Experiment');
    await ui.answer('New Experiment: name', 'tiny');
    await ui.pick('mlp', 'New Experiment: model family');
    await ui.answer('New Experiment: depth', '2');
    await ui.answer('New Experiment: width', '8');
    await ui.pick('shapes', 'New Experiment: data set');
    await ui.answer('New Experiment: widening factor', '2');
    await ui.waitFor('the editor of tiny.gowide.json', async () => (await ui.activeTabLabel()) === 'tiny.gowide.json', 20_000, async () => `active tab: ${await ui.activeTabLabel()}`);
    await ui.waitFor('"tiny" in the explorer', async () => (await ui.treeRows()).some((r) => r.label === 'tiny'), 20_000, () => ui.describeTree());
    const created = JSON.parse(readFileSync(join(workbench!.workspace, 'tiny.gowide.json'), 'utf8'));
    assert.deepEqual([created.model.family, created.model.depth, created.model.width, created.data.format, created.widen.factor], ['mlp', 2, 8, 'shapes', 2]);
  });

  step('Configure Widening Factors: a factor edited in the webview changes the file', async () => {
    await focusExperiment('fashion');
    await ui.runCommand('Go Wide: Configure Widening Factors');
    const frame = await ui.webview('#factor-all', 'the widening webview with its factor field');
    await ui.waitFor('the widening table', async () => (await frame.locator('#blocks tr[data-block]').count()) === 4, 20_000);
    const field = frame.locator('#factor-all input');
    await field.fill('3');
    await field.press('Enter');
    await ui.waitFor('wide width 72 (24 x 3) in the widening table', async () => (await frame.locator('tr[data-block="0"] .wide-width').innerText()) === '72', 20_000,
      async () => frame.locator('#app').innerText());
    await focusExperiment('fashion');
    await ui.waitFor('"factor": 3 in the fashion.gowide.json editor', async () => /"factor":\s*3\b/.test(await ui.editorText()), 20_000, () => ui.editorText());
    await ui.page.keyboard.press('Control+S');
    await ui.waitFor('"factor": 3 saved to fashion.gowide.json on disk', async () => JSON.parse(readFileSync(join(workbench!.workspace, 'fashion.gowide.json'), 'utf8')).widen.factor === 3, 15_000);
  });

  step('Run All Stages: the explorer fills with stages and blocks whose states change', async () => {
    await focusExperiment('fashion');
    await ui.runCommand('Go Wide: Run All Stages');
    await ui.expand('fashion', 30_000);
    const seen = await followRunInExplorer((run) => stateOfIcon(run.icon) === 'done', 'the Run All Stages run to finish in the explorer');
    const rows = await ui.treeRows();
    for (const label of [...STAGE_LABELS, 'Block 1', 'Block 2', 'Block 3', 'Block 4']) {
      assert.ok(rows.some((r) => r.label === label), `explorer row "${label}" missing; tree: ${await ui.describeTree()}`);
    }
    // Each block was seen in another state before it ended done (the tree redraws while metrics stream).
    assert.ok(seen.get('run')?.has('running'), `the run was never shown running: ${describeSeen(seen)}`);
    const changed = [...seen].filter(([, states]) => states.size > 1).map(([k]) => k);
    assert.ok(changed.length >= 2, `fewer than two explorer rows changed state: ${describeSeen(seen)}`);
    console.log(`e2e: explorer states seen during Run All Stages: ${describeSeen(seen)}`);
    for (const label of ['Block 1', 'Block 2', 'Block 3', 'Block 4', ...STAGE_LABELS]) {
      const row = rows.find((r) => r.label === label)!;
      assert.equal(stateOfIcon(row.icon), 'done', `${label} did not end done: ${row.icon} ${row.description}`);
    }
  });

  let monitor: Frame;
  step('Imitation monitor: every block plotted points and converged', async () => {
    await focusExperiment('fashion');
    await ui.runCommand('Go Wide: Open Imitation Monitor');
    monitor = await ui.webview('#blocks', 'the imitation monitor webview');
    const blocks = async () => monitor.locator('#blocks .block').evaluateAll((cards) => cards.map((c) => ({ title: c.querySelector('h2')?.firstChild?.textContent?.trim(), state: c.getAttribute('data-state'), points: c.getAttribute('data-points'), rule: c.querySelector('.rule')?.textContent })));
    await ui.waitFor('four converged blocks with plotted points in the monitor', async () => {
      const cards = await blocks();
      return cards.length === 4 && cards.every((c) => c.state === 'converged' && Number(c.points?.split(',')[0]) > 0);
    }, 30_000, async () => JSON.stringify(await blocks()));
    // Numbered from 1 like the explorer's and the editor's blocks.
    assert.deepEqual((await blocks()).map((b) => b.title), ['Block 1', 'Block 2', 'Block 3', 'Block 4']);
  });

  step('Launch Fine-Tuning from the monitor', async () => {
    await ui.waitFor('the Launch Fine-Tuning form', async () => monitor.locator('#launch-finetune').isVisible(), 20_000, () => monitor.locator('#app').innerText());
    await monitor.locator('#ft-epochs input').fill('2');
    await monitor.locator('#launch-finetune').click();
    await ui.waitFor('"Fine-tuning started." in the monitor', async () => (await monitor.locator('#notice').innerText()).includes('Fine-tuning started'), 30_000, () => monitor.locator('#app').innerText());
    await ui.waitFor('fine-tuning to finish (monitor title shows done)', async () => /\(done\)/.test(await monitor.locator('#title').innerText()), RUN_TIMEOUT, () => monitor.locator('#app').innerText());
    await ui.waitFor('finetune.epochs 2 written to the experiment file', async () => JSON.parse(readFileSync(join(workbench!.workspace, 'fashion.gowide.json'), 'utf8')).finetune.epochs === 2, 15_000);
  });

  step('Compare Runs shows the four arms', async () => {
    await focusExperiment('fashion');
    await ui.runCommand('Go Wide: Compare Runs');
    const compare = await ui.webview('#accuracy', 'the compare-runs webview');
    const arms = async () => compare.locator('#accuracy tr[data-arm]').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-arm'), r.querySelector('.mean')?.textContent]));
    await ui.waitFor('the arms wide, scratch, kd and win with accuracies', async () => {
      const found = await arms();
      return ['wide', 'scratch', 'kd', 'win'].every((arm) => found.some(([a, mean]) => a === arm && Number(mean) > 10));
    }, 30_000, async () => JSON.stringify(await arms()));
  });

  step('Stop a run midway, then Resume it', async () => {
    await focusExperiment('fashion');
    const before = (await ui.treeRows()).filter((r) => /^fashion · /.test(r.label)).length;
    await ui.runCommand('Go Wide: Run All Stages');
    await ui.waitFor('the new run to reach layerwise imitation', async () => {
      const rows = await ui.treeRows();
      const run = runRow(rows);
      if (run && /% · (finetune|scratch|kd)/.test(run.description)) throw new Abort(`the run passed imitation before Stop could be issued (${run.description}): the fixture trains too fast here`);
      return rows.filter((r) => /^fashion · /.test(r.label)).length > before && run !== undefined && /imitate/.test(run.description);
    }, 120_000, () => ui.describeTree());
    await ui.runCommand('Go Wide: Stop');
    await ui.waitFor('the run to show stopped in the explorer', async () => {
      const run = runRow(await ui.treeRows());
      return run !== undefined && stateOfIcon(run.icon) === 'stopped';
    }, 60_000, () => ui.describeTree());
    await ui.screenshot('run-stopped');
    await ui.runCommand('Go Wide: Resume');
    await followRunInExplorer((run) => stateOfIcon(run.icon) === 'done', 'the resumed run to finish');
    // Resume continued the stopped run: no run was added.
    assert.equal((await ui.treeRows()).filter((r) => /^fashion · /.test(r.label)).length, before + 1, await ui.describeTree());
  });

  step('Restart the sidecar while idle', async () => {
    const statusTexts = await ui.recordStatusBar();
    await ui.runCommand('Go Wide: Restart Training Sidecar');
    await ui.waitFor('the status bar to show the sidecar starting', async () => (await statusTexts()).some((t) => /gowide: (starting|restarting)/.test(t)), 30_000, async () => JSON.stringify(await statusTexts()));
    await ui.waitFor('the status bar to show the sidecar again after the restart', async () => (await ui.statusBarTexts()).some((t) => /gowide: (wasm|cpu|tensorflow|webgpu)/.test(t)), 90_000, async () => JSON.stringify(await ui.statusBarTexts()));
    // The restarted sidecar answers: the explorer lists the runs again and the engine report opens.
    await ui.runCommand('Go Wide: Refresh Experiments');
    await ui.waitFor('the runs listed by the restarted sidecar', async () => (await ui.treeRows()).filter((r) => /^fashion · /.test(r.label)).length >= 2, 30_000, () => ui.describeTree());
    await ui.runCommand('Go Wide: Show Engine Info');
    await ui.waitFor('the engine report quick pick', async () => (await ui.quickPickRows()).some((r) => /wasm/.test(r)), 30_000, async () => JSON.stringify(await ui.quickPickRows()));
    await ui.page.keyboard.press('Escape');
  });

  step('Explorer and inline plots in light and dark themes', async () => {
    await saveDocScreenshots(ui);
  });
});
