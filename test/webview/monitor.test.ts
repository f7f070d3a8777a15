// Imitation monitor in headless Chromium, fed the recorded run in test/fixtures/run-sample.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { RunSummary } from '../../server/protocol';
import { finetuneSettingFields } from '../../server/experiment/finetune-settings';
import { resolveExperiment } from '../../server/experiment';
import { fixtureRun, launchChromium, openWebview, screenshot, skipReason } from './harness';

function finetuneFieldsWithoutSection() {
  const raw = { name: 'no-finetune', data: { format: 'shapes' }, model: { family: 'mlp', depth: 3, width: 8 } };
  return finetuneSettingFields(resolveExperiment(raw, '/tmp/no-finetune.gowide.json').experiment!);
}

const skip = skipReason();
if (skip) console.log(`# SKIP webview tests: ${skip}`);

describe('imitation monitor webview', { skip }, () => {
  let browser: Browser;
  const { summary, records } = fixtureRun();
  // The fields as the sidecar serves them for an experiment file without a finetune section.
  const fields = finetuneFieldsWithoutSection();
  before(async () => (browser = await launchChromium()));
  after(async () => browser?.close());

  it('plots every block, labels convergence, and offers fine-tuning when imitation is done', async () => {
    for (const theme of ['light', 'dark'] as const) {
      const view = await openWebview(browser, 'monitor', { theme });
      await view.post({ type: 'finetuneSettings', fields });
      await view.post({ type: 'run', run: summary });
      await view.post({ type: 'metrics', runId: summary.runId, records });
      const blocks = await view.page.$$eval('.block', (cards) => cards.map((c) => ({ points: c.getAttribute('data-points'), state: c.getAttribute('data-state'), rule: c.querySelector('.rule')?.textContent ?? '', numbers: c.querySelector('.rule')?.getAttribute('title') ?? '' })));
      assert.equal(blocks.length, 10);
      for (const block of blocks) {
        const perSeed = (block.points ?? '').split(',').map(Number);
        assert.equal(perSeed.length, 2, 'one series per seed');
        assert.ok(perSeed.every((n) => n > 3), `points per seed: ${block.points}`);
        assert.ok(['converged', 'done'].includes(block.state!), `finished blocks are converged or done, got ${block.state}`);
        assert.match(block.rule, /^(converged: loss fell to [\d.]+% of its start and is flat|finished while still falling: .*)$/, 'in plain words');
        assert.match(block.numbers, /^start [\d.]+; median of the last \d+ points/, 'the numbers on hover');
      }
      assert.equal(await view.page.isVisible('#launch-finetune'), true);
      assert.match(await view.page.textContent('#progress-text') ?? '', /100%/);
      await screenshot(view.page, `monitor-${theme}`);
      assert.deepEqual(await view.cspViolations(), []);
      await view.page.close();
    }
  });

  it('posts startStage with the edited settings, and refuses bad ones with the reason', async () => {
    const view = await openWebview(browser, 'monitor');
    await view.post({ type: 'finetuneSettings', fields });
    await view.post({ type: 'run', run: summary });
    const setField = (id: string, value: string) => view.page.$eval(id, (el, v) => {
      (el as unknown as { value: string }).value = v;
    }, value);
    await setField('#ft-learningRate', '-1');
    await view.page.click('#launch-finetune');
    assert.match(await view.page.textContent('#ft-learningRate-reason') ?? '', /above 0 and at most 10/);
    assert.equal((await view.posted()).filter((m) => m.type === 'startStage').length, 0);
    await setField('#ft-learningRate', '0.0005');
    await setField('#ft-epochs', '3');
    await view.page.click('#launch-finetune');
    const started = (await view.posted()).filter((m) => m.type === 'startStage');
    assert.deepEqual(started, [{ type: 'startStage', stage: 'finetune', settings: { epochs: 3, kdWeight: 0, temperature: 4, learningRate: 0.0005 } }],
      'untouched fields keep the resolved defaults (kdWeight 0: no distillation)');
    await view.page.close();
  });

  it('follows a live run: highlights the current block, shows ETA, no button until imitation is done', async () => {
    const view = await openWebview(browser, 'monitor');
    const upTo = records.findIndex((r) => r.phase === 'imitate' && r.block === 4);
    const running: RunSummary = {
      ...summary, state: 'running',
      stages: [{ stage: 'wide', state: 'done' }, { stage: 'imitate', state: 'running', blocks: Array.from({ length: 10 }, (_, index) => ({ index, state: index < 4 ? 'done' : index === 4 ? 'running' : 'queued' })) }],
    };
    await view.post({ type: 'run', run: running });
    await view.post({ type: 'metrics', runId: summary.runId, records: records.slice(0, upTo + 3) });
    await view.post({ type: 'progress', progress: { runId: summary.runId, phase: 'imitate', seed: 1, block: 4, fraction: 0.3, message: 'imitating block 4', etaSeconds: 125 } });
    assert.deepEqual(await view.page.$$eval('.block.current', (cards) => cards.map((c) => c.getAttribute('data-block'))), ['4']);
    assert.equal(await view.page.getAttribute('#block-4', 'data-state'), 'running');
    assert.equal(await view.page.getAttribute('#block-7', 'data-state'), 'queued');
    assert.match(await view.page.textContent('#progress-text') ?? '', /30%, about 2 min left: imitating block 4/);
    assert.equal(await view.page.isVisible('#launch-finetune'), false);

    // Reload: the panel comes back from its saved state before the host says anything.
    const state = await view.savedState();
    await view.page.close();
    const restored = await openWebview(browser, 'monitor', { state });
    assert.deepEqual(await restored.page.$$eval('.block.current', (cards) => cards.map((c) => c.getAttribute('data-block'))), ['4']);
    assert.ok(Number((await restored.page.getAttribute('#block-0', 'data-points'))?.split(',')[0]) > 3);
    await restored.page.close();
  });

  it('shows blocks that imitated together (a stage) as one card named after the group', async () => {
    const view = await openWebview(browser, 'monitor');
    const grouped: RunSummary = {
      ...summary, state: 'running',
      stages: [{ stage: 'wide', state: 'done' }, { stage: 'imitate', state: 'running', blocks: [{ index: 2, from: 0, state: 'done', startLoss: 1.9, loss: 0.2 }, { index: 5, from: 3, state: 'running' }] }],
    };
    const base = { runId: summary.runId, seed: 1, phase: 'imitate' as const, split: 'train' as const, time: 0 };
    const curve = (block: number, seq: number) => [1.5, 1, 0.6, 0.4, 0.3].map((loss, i) => ({ ...base, block, seq: seq + i, step: i * 10, loss, imitationLoss: loss }));
    await view.post({ type: 'run', run: grouped });
    await view.post({ type: 'metrics', runId: summary.runId, records: [...curve(2, 0), ...curve(5, 10)] });
    const cards = await view.page.$$eval('.block', (all) => all.map((c) => [c.getAttribute('data-block'), c.querySelector('.title')?.textContent]));
    assert.deepEqual(cards, [['2', 'Blocks 1-3'], ['5', 'Blocks 4-6']]);
    await view.page.close();
  });

  it('marks a block diverging when its loss turns NaN', async () => {
    const view = await openWebview(browser, 'monitor');
    const base = { runId: 'r', seed: 1, phase: 'imitate' as const, block: 0, split: 'train' as const, time: 0 };
    await view.post({ type: 'metrics', runId: 'r', records: [1, 0.8, 0.6, Number.NaN].map((loss, i) => ({ ...base, seq: i, step: i * 10, loss, imitationLoss: loss })) });
    assert.equal(await view.page.getAttribute('#block-0', 'data-state'), 'diverging');
    await view.page.close();
  });
});
