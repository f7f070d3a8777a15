// Compare-runs panel in headless Chromium: accuracy table (mean, std over seeds), validation accuracy
// against budget and training-loss tabs, CSV and PNG export.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureRun, launchChromium, openWebview, ROOT, screenshot, skipReason } from './harness';
import { expectedSweepRows, sweepTableRows, trainTinySweep } from './sweep-fixture';

const skip = skipReason();
if (skip) console.log(`# SKIP webview tests: ${skip}`);

describe('compare runs webview', { skip }, () => {
  let browser: Browser;
  const { summary, records } = fixtureRun();
  before(async () => (browser = await launchChromium()));
  after(async () => browser?.close());

  it('tabulates test accuracy per arm with mean and std over seeds, as the run summary has them', async () => {
    for (const theme of ['light', 'dark'] as const) {
      const view = await openWebview(browser, 'compare', { theme });
      await view.post({ type: 'runs', runs: [summary] });
      await view.post({ type: 'metrics', runId: summary.runId, records });
      const rows = await view.page.$$eval('#accuracy tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-arm'), tr.querySelector('.mean')?.textContent, tr.querySelector('.std')?.textContent]));
      assert.deepEqual(rows.map((r) => r[0]), ['wide', 'scratch', 'kd', 'win']);
      for (const [arm, meanText, stdText] of rows) {
        const expected = summary.arms[arm as 'wide']!.accuracy;
        assert.equal(meanText, (100 * expected.mean).toFixed(2), `${arm} mean`);
        assert.equal(stdText, (100 * expected.std).toFixed(2), `${arm} std`);
      }
      assert.ok(await view.page.$('#accuracy-curves canvas'), 'the accuracy curves are drawn');
      await screenshot(view.page, `compare-${theme}`);
      assert.deepEqual(await view.cspViolations(), []);
      await view.page.close();
    }
  });

  it('draws validation accuracy against the thin-net epoch budget, per arm a mean line and a band over seeds', async () => {
    const view = await openWebview(browser, 'compare');
    await view.post({ type: 'runs', runs: [summary] });
    await view.post({ type: 'metrics', runId: summary.runId, records });
    const { experiment } = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/run-sample/experiment.json'), 'utf8'));
    const imitationEpochs = experiment.imitate.epochsPerLayer * experiment.model.depth;
    const counts = Object.fromEntries((await view.page.getAttribute('#accuracy-curves', 'data-points'))!.split(',').map((c) => c.split(':')));
    assert.deepEqual(Object.keys(counts), ['wide', 'scratch', 'kd', 'win']);
    // win: its warm start, then one point per fine-tuning epoch; scratch and kd: one per epoch of the same budget.
    assert.equal(Number(counts.win), 1 + experiment.finetune.epochs);
    assert.equal(Number(counts.scratch), imitationEpochs + experiment.finetune.epochs);
    assert.equal(Number(counts.kd), imitationEpochs + experiment.finetune.epochs);
    const legend = await view.page.$$eval('#accuracy-curves .u-legend .u-series', (rows) => rows.filter((r) => (r as HTMLElement).style.display !== 'none').map((r) => r.textContent?.trim() ?? ''));
    assert.equal(legend.length, 4, `one legend entry per arm, band edges left out: ${legend}`);
    for (const entry of legend) assert.match(entry, /^[a-z ()3]+\d+\.\d$/, 'each arm with its last mean validation accuracy, not "--"');
    await view.page.click('vscode-tab-header[data-tab="loss"]');
    assert.ok(await view.page.isVisible('#loss-curves canvas'), 'the loss tab shows the training-loss curves');
    assert.equal(await view.page.isVisible('#accuracy-curves canvas'), false);
    await view.page.close();
  });

  it('tables win minus each baseline under the plot, paired by seed, as the run summary has them', async () => {
    const view = await openWebview(browser, 'compare');
    await view.post({ type: 'runs', runs: [summary] });
    await view.post({ type: 'metrics', runId: summary.runId, records });
    const rows = await view.page.$$eval('#paired tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-pair'), tr.querySelector('.mean')?.textContent, tr.querySelector('.ahead')?.textContent]));
    assert.deepEqual(rows.map((r) => r[0]), ['win-scratch', 'win-kd']);
    const win = summary.arms.win!.accuracy.perSeed;
    for (const [pair, meanText, aheadText] of rows) {
      const other = summary.arms[pair!.slice('win-'.length) as 'scratch']!.accuracy.perSeed;
      const differences = win.map((w, i) => w - other[i]);
      const meanPoints = (100 * differences.reduce((a, b) => a + b, 0)) / differences.length;
      assert.equal(meanText, `${meanPoints >= 0 ? '+' : ''}${meanPoints.toFixed(2)}`, pair!);
      assert.equal(aheadText, `${differences.filter((d) => d > 0).length} of ${differences.length}`, pair!);
    }
    await view.page.close();
  });

  it('exports the table as CSV and the plot as PNG through the host', async () => {
    const view = await openWebview(browser, 'compare');
    await view.post({ type: 'runs', runs: [summary] });
    await view.post({ type: 'metrics', runId: summary.runId, records });
    await view.page.click('#export-csv');
    await view.page.click('#export-png');
    const exports = (await view.posted()).filter((m) => m.type === 'export');
    assert.equal(exports.length, 2);
    const [csv, png] = exports as { format: string; data: string; fileName?: string }[];
    assert.equal(csv.format, 'csv');
    const lines = csv.data.trim().split('\n');
    assert.equal(lines[0], 'arm,seeds,mean_accuracy,std_accuracy,per_seed');
    const perSeed = summary.arms.win!.accuracy.perSeed.map((v) => v.toFixed(4)).join(';');
    assert.equal(lines[4], `win,2,${summary.arms.win!.accuracy.mean.toFixed(4)},${summary.arms.win!.accuracy.std.toFixed(4)},${perSeed}`);
    assert.equal(png.format, 'png');
    assert.match(png.data, /^data:image\/png;base64,/);
    await view.page.close();
  });
  it('plots every arm against the swept factor when the experiment has a sweep (its runs differ in that field)', async () => {
    const sweep = await trainTinySweep();
    const view = await openWebview(browser, 'compare');
    await view.post({ type: 'sweep', sweep });
    const rows = await view.page.$$eval('#sweep-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    assert.deepEqual(sweepTableRows(rows), expectedSweepRows(sweep));
    assert.ok(await view.page.$('#sweep-plot canvas'), 'the plot is drawn');
    await view.page.close();
  });
});
