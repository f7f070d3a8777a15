// How the run views take the run feed's messages, in headless Chromium: a snapshot replaces what the
// view held of the run (a second one comes when a resumed run rewrote its records), metrics append.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { fixtureRun, launchChromium, openWebview, skipReason } from './harness';

const skip = skipReason();
if (skip) console.log(`# SKIP webview tests: ${skip}`);

describe('run views take a snapshot, then metrics', { skip }, () => {
  let browser: Browser;
  const { summary, records } = fixtureRun();
  const isTest = (r: (typeof records)[number]) => r.split === 'test';
  before(async () => (browser = await launchChromium()));
  after(async () => browser?.close());

  it('Compare Runs: metrics add to the snapshot, a second snapshot replaces it', async () => {
    const view = await openWebview(browser, 'compare');
    const seedsColumn = () => view.page.$$eval('#accuracy tbody tr', (trs) => trs.map((tr) => tr.children[1]?.textContent));
    await view.post({ type: 'runs', runs: [summary] });
    await view.post({ type: 'snapshot', run: summary, records: records.filter((r) => !isTest(r)) });
    assert.deepEqual(await seedsColumn(), [], 'no test accuracy in the snapshot');
    await view.post({ type: 'metrics', runId: summary.runId, records: records.filter(isTest) });
    assert.deepEqual(await seedsColumn(), ['2', '2', '2', '2'], 'the test records appended: two seeds per arm');
    await view.post({ type: 'snapshot', run: summary, records });
    assert.deepEqual(await seedsColumn(), ['2', '2', '2', '2'], 'the same records again in a snapshot: replaced, not doubled');
    await view.page.close();
  });

  it("Loss view: the selected run's snapshot replaces its curves, metrics extend them, other runs are ignored", async () => {
    const view = await openWebview(browser, 'loss', { width: 340, height: 320 });
    const total = async () => (await view.page.getAttribute('#plot', 'data-points'))!.split(',').map(Number).reduce((a, b) => a + b, 0);
    await view.post({ type: 'runs', runs: [summary], selected: summary.runId });
    await view.post({ type: 'snapshot', run: summary, records });
    const full = await total();
    await view.post({ type: 'snapshot', run: summary, records: records.slice(0, records.length / 2) });
    const half = await total();
    assert.ok(half < full, `a snapshot of half the records replaces the curves: ${half} of ${full} points`);
    await view.post({ type: 'metrics', runId: summary.runId, records: records.slice(records.length / 2) });
    assert.equal(await total(), full, 'the rest appended');
    await view.post({ type: 'snapshot', run: { ...summary, runId: 'other' }, records: [] });
    assert.equal(await total(), full, "another run's snapshot leaves the selected run's curves");
    await view.page.close();
  });

  it('Imitation monitor: a second snapshot (records rewritten by a resume) starts the curves again', async () => {
    const view = await openWebview(browser, 'monitor');
    const imitation = records.filter((r) => r.phase === 'imitate');
    const pointsOfFirstBlock = () => view.page.getAttribute('#block-0', 'data-points');
    await view.post({ type: 'snapshot', run: summary, records: imitation });
    const full = await pointsOfFirstBlock();
    const firstBlockOnly = imitation.filter((r) => r.block === 0);
    await view.post({ type: 'snapshot', run: summary, records: firstBlockOnly.slice(0, firstBlockOnly.length / 2) });
    const cut = await pointsOfFirstBlock();
    assert.ok(full && cut, 'block 1 drawn both times');
    assert.ok(cut.split(',').map(Number).reduce((a, b) => a + b) < full.split(',').map(Number).reduce((a, b) => a + b), `fewer points after the second snapshot: ${cut} against ${full}`);
    await view.page.close();
  });
});
