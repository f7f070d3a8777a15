// The sidebar Loss view in headless Chromium: the selected run's curves against the run's steps, each
// phase's last loss in the legend, and the run picker.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { fixtureRun, launchChromium, openWebview, screenshot, skipReason } from './harness';
import { THEMES } from './themes';

const skip = skipReason();
if (skip) console.log(`# SKIP webview tests: ${skip}`);

describe('loss view webview', { skip }, () => {
  let browser: Browser;
  const { summary, records } = fixtureRun();
  before(async () => (browser = await launchChromium()));
  after(async () => browser?.close());

  it("draws the selected run's loss per phase and asks the host for another run", async () => {
    for (const theme of ['light', 'dark'] as const) {
      const view = await openWebview(browser, 'loss', { theme, width: 340, height: 320 });
      const other = { ...summary, runId: 'quickstart-older', state: 'stopped' as const };
      await view.post({ type: 'runs', runs: [summary, other], selected: summary.runId });
      await view.post({ type: 'metrics', runId: summary.runId, records });
      await view.post({ type: 'metrics', runId: 'not-selected', records: records.slice(0, 5) });
      const points = (await view.page.getAttribute('#plot', 'data-points'))!.split(',').map(Number);
      assert.equal(points.length, 5, 'wide, imitate, finetune, scratch, kd');
      assert.ok(points.every((n) => n > 10), `points: ${points}`);
      assert.match(await view.page.textContent('#plot .uplot') ?? '', /steps, all phases in run order/, 'x is optimisation steps, not record numbers');
      const legend = await view.page.$$eval('#plot .u-legend .u-series', (rows) => rows.filter((r) => (r as HTMLElement).style.display !== 'none').map((r) => r.textContent?.trim() ?? ''));
      assert.deepEqual(legend.map((entry) => entry.replace(/[\d.]+$/, '')), ['wide', 'imitate', 'finetune', 'scratch', 'kd']);
      for (const entry of legend) assert.match(entry, /\d\.\d+$/, `each phase with its last loss, not "--": ${entry}`);
      await screenshot(view.page, `loss-${theme}`);
      // VS Code switching theme rewrites the variables on <html>: the plot takes the new colours.
      const otherTheme = THEMES[theme === 'light' ? 'dark' : 'light'];
      const marker = () => view.page.$eval('#plot .u-legend .u-series:nth-child(2) .u-marker', (m) => getComputedStyle(m).borderColor);
      const before = await marker();
      await view.page.evaluate((vars) => { for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v); }, otherTheme);
      await view.page.waitForFunction((was) => getComputedStyle(document.querySelector('#plot .u-legend .u-series:nth-child(2) .u-marker')!).borderColor !== was, before, { timeout: 5000 });
      assert.deepEqual(await view.cspViolations(), []);
      await view.page.$eval('#run-picker', (el) => {
        (el as unknown as { value: string }).value = 'quickstart-older';
        el.dispatchEvent(new Event('change'));
      });
      assert.deepEqual((await view.posted()).filter((m) => m.type === 'selectRun'), [{ type: 'selectRun', runId: 'quickstart-older' }]);
      await view.page.close();
    }
  });
});
