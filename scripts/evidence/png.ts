// SVG charts to PNG files through headless Chromium (Debian's /usr/bin/chromium, as in the webview tests).
import { writeFileSync } from 'node:fs';
import { launchChromium } from '../../test/webview/harness';

export async function writePngs(charts: { path: string; svg: string }[]): Promise<void> {
  const browser = await launchChromium();
  try {
    for (const chart of charts) {
      const page = await browser.newPage({ viewport: { width: 800, height: 500 } });
      await page.setContent(`<!doctype html><html><body style="margin:0">${chart.svg}</body></html>`);
      writeFileSync(chart.path, await page.locator('svg').screenshot());
      await page.close();
    }
  } finally {
    await browser.close();
  }
}
