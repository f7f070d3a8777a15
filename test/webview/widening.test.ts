// Widening-factor table in headless Chromium, fed the sidecar's real net sizes for the quick-start example.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { NetSizesResult } from '../../server/protocol';
import { computeNetSizes } from '../../server/models/net-sizes';
import { expectedSweepRows, sweepTableRows, trainTinySweep } from './sweep-fixture';
import { useWasm } from '../unit/method-fixtures';
import { launchChromium, openWebview, ROOT, screenshot, skipReason } from './harness';

const skip = skipReason();
if (skip) console.log(`# SKIP webview tests: ${skip}`);
const experimentPath = join(ROOT, 'examples/quickstart.gowide.json');

describe('widening factors webview', { skip }, () => {
  let browser: Browser;
  let sizes: NetSizesResult;
  before(async () => {
    browser = await launchChromium();
    // The sidecar starts the engine before it answers netSizes; the models register the wasm backend.
    await useWasm();
    sizes = await computeNetSizes(experimentPath);
  });
  after(async () => browser?.close());

  it('shows thin and wide widths, params, FLOPs and cost per block', async () => {
    for (const theme of ['light', 'dark'] as const) {
      const view = await openWebview(browser, 'widening', { theme });
      await view.post({ type: 'netSizes', experimentPath, sizes });
      const rows = await view.page.$$eval('#blocks tbody tr[data-block]', (trs) => trs.map((tr) => ({
        thin: tr.querySelector('.thin-width')?.textContent, wide: tr.querySelector('.wide-width')?.textContent,
        thinParams: tr.querySelector('.thin-params')?.textContent, cost: tr.querySelector('.cost')?.textContent,
      })));
      assert.equal(rows.length, 10);
      // quickstart: mlp width 24, factor 4 on 16x16 images.
      assert.deepEqual(rows[0], { thin: '24', wide: '96', thinParams: '6.2k', cost: '4.0x' });
      assert.deepEqual(rows[1], { thin: '24', wide: '96', thinParams: '600', cost: '16.0x' });
      assert.equal(await view.page.textContent('#thin-params-total'), '11.8k');
      assert.equal(await view.page.textContent('#wide-params-total'), '109.5k');
      assert.match(await view.page.textContent('#cost-summary') ?? '', /about 9\.4x the time of the thin net/);
      await screenshot(view.page, `widening-${theme}`);
      assert.deepEqual(await view.cspViolations(), []);
      await view.page.close();
    }
  });

  it('refuses factors below 1 and non-numbers with the reason, and posts good ones', async () => {
    const view = await openWebview(browser, 'widening');
    await view.post({ type: 'netSizes', experimentPath, sizes });
    const enter = async (id: string, value: string) => {
      await view.page.$eval(id, (el, v) => {
        (el as unknown as { value: string }).value = v;
        el.dispatchEvent(new Event('change'));
      }, value);
    };
    await enter('#factor-2', '0.5');
    assert.match(await view.page.textContent('#factor-2-reason') ?? '', /below 1/);
    await enter('#factor-2', 'wide');
    assert.match(await view.page.textContent('#factor-2-reason') ?? '', /"wide" is not a number/);
    assert.deepEqual((await view.posted()).filter((m) => m.type === 'setFactor'), []);
    await enter('#factor-2', '3');
    assert.equal(await view.page.textContent('#factor-2-reason'), '');
    await enter('#factor-all', '2.5');
    assert.deepEqual((await view.posted()).filter((m) => m.type === 'setFactor'), [
      { type: 'setFactor', block: 2, factor: 3 },
      { type: 'setFactor', block: 'all', factor: 2.5 },
    ]);
    await view.page.close();
  });

  it('starts a sweep of the factors typed, refusing bad ones with the reason', async () => {
    const view = await openWebview(browser, 'widening');
    await view.post({ type: 'netSizes', experimentPath, sizes });
    assert.equal(await view.page.$eval('#sweep-factors', (el) => (el as unknown as { value: string }).value), '2, 4, 8', 'half, the file\'s factor and double');
    const sweep = async (text: string) => {
      await view.page.$eval('#sweep-factors', (el, v) => ((el as unknown as { value: string }).value = v), text);
      await view.page.click('#run-sweep');
    };
    await sweep('2, 0.5');
    assert.match(await view.page.textContent('#sweep-factors-reason') ?? '', /below 1/);
    await sweep('4 4');
    assert.match(await view.page.textContent('#sweep-factors-reason') ?? '', /listed twice/);
    assert.deepEqual((await view.posted()).filter((m) => m.type === 'startSweep'), []);
    await sweep('2, 3 6');
    assert.equal(await view.page.textContent('#sweep-factors-reason'), '');
    assert.deepEqual((await view.posted()).filter((m) => m.type === 'startSweep'), [{ type: 'startSweep', factors: [2, 3, 6] }]);
    await view.page.close();
  });

  it('draws every arm\'s accuracy against the swept factor of a real sweep, with each point\'s cost', async () => {
    const sweep = await trainTinySweep();
    const view = await openWebview(browser, 'widening');
    await view.post({ type: 'netSizes', experimentPath, sizes });
    await view.post({ type: 'sweep', sweep });
    const rows = await view.page.$$eval('#sweep-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    // In factor order, whatever order the file gives.
    assert.deepEqual(sweepTableRows(rows), expectedSweepRows(sweep));
    assert.match(await view.page.textContent('#sweep-results h2') ?? '', /test accuracy against widen\.factor/);
    assert.ok(await view.page.$('#sweep-plot canvas'), 'the plot is drawn');
    await view.page.close();
  });

  it('shows the problems of an invalid experiment instead of a table', async () => {
    const view = await openWebview(browser, 'widening');
    const bad = await computeNetSizes(experimentPath, '{"name":"x","data":{"format":"shapes"},"model":{"family":"mlp","depth":3,"width":8},"widen":{"factor":0.5}}');
    await view.post({ type: 'netSizes', experimentPath, sizes: bad });
    assert.equal(await view.page.$('#blocks'), null);
    assert.match(await view.page.textContent('#app') ?? '', /widen\.factor/);
    await view.page.close();
  });
});
