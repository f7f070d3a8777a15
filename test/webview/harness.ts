// Loads a built webview bundle in headless Chromium behind the real CSP, with a fake acquireVsCodeApi:
// the test plays the extension host, posting messages in and reading what the webview posts out.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { FromWebviewMessage, MetricRecord, RunSummary, ToWebviewMessage } from '../../server/protocol';
import { makeNonce, webviewHtml } from '../../extension/webviews/html';
import { THEMES, type ThemeName } from './themes';

export const CHROMIUM = '/usr/bin/chromium';
export const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'dist/webview');

/** Why the Chromium tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing: apt-get install -y chromium to run the webview tests`;
  if (!existsSync(join(DIST, 'monitor.js'))) return 'dist/webview is not built: run npm run build first';
  return undefined;
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

export interface WebviewUnderTest {
  page: Page;
  post(message: ToWebviewMessage): Promise<void>;
  posted(): Promise<FromWebviewMessage[]>;
  savedState(): Promise<unknown>;
  cspViolations(): Promise<string[]>;
}

/** Opens dist/webview/<name>.js in a page with the given theme and (for restore tests) saved state. */
export async function openWebview(browser: Browser, name: string, options: { theme?: ThemeName; state?: unknown; width?: number; height?: number } = {}): Promise<WebviewUnderTest> {
  const page = await browser.newPage({ viewport: { width: options.width ?? 900, height: options.height ?? 640 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // A string, not a function: tsx would wrap named functions in a __name() helper the page lacks.
  await page.addInitScript(fakeHostScript(options.state, THEMES[options.theme ?? 'dark']));
  const dir = mkdtempSync(join(tmpdir(), 'gowide-webview-'));
  const html = webviewHtml({
    title: name,
    cspSource: 'file:',
    nonce: makeNonce(),
    scriptUri: pathToFileURL(join(DIST, `${name}.js`)).href,
    styleUri: pathToFileURL(join(DIST, `${name}.css`)).href,
  });
  const file = join(dir, `${name}.html`);
  writeFileSync(file, html);
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => ((window as unknown as { __posted: { type: string }[] }).__posted ?? []).some((m) => m.type === 'ready'), undefined, { timeout: 10_000 });
  if (pageErrors.length > 0) throw new Error(`page errors: ${pageErrors.join('; ')}`);
  return {
    page,
    post: async (message) => {
      await page.evaluate((m) => window.postMessage(m, '*'), message);
      // Renders are batched per animation frame.
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    },
    posted: () => page.evaluate(() => (window as unknown as { __posted: FromWebviewMessage[] }).__posted),
    savedState: () => page.evaluate(() => (window as unknown as { __state: unknown }).__state),
    cspViolations: () => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations),
  };
}

/** The fake VS Code host: acquireVsCodeApi recording posts and state, CSP violations, theme variables. */
function fakeHostScript(state: unknown, theme: Record<string, string>): string {
  return `
    window.__posted = [];
    window.__state = ${JSON.stringify(state ?? null)} ?? undefined;
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
      getState: () => window.__state,
      setState: (s) => { window.__state = JSON.parse(JSON.stringify(s)); },
    });
    const theme = ${JSON.stringify(theme)};
    const apply = () => { for (const [k, v] of Object.entries(theme)) document.documentElement.style.setProperty(k, v); };
    if (document.documentElement) apply();
    else new MutationObserver((_, o) => { if (document.documentElement) { apply(); o.disconnect(); } }).observe(document, { childList: true });
  `;
}

const FIXTURE = join(ROOT, 'test/fixtures/run-sample');

export function fixtureRun(): { summary: RunSummary; records: MetricRecord[] } {
  const summary = JSON.parse(readFileSync(join(FIXTURE, 'summary.json'), 'utf8')) as RunSummary;
  const records = readFileSync(join(FIXTURE, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as MetricRecord);
  return { summary, records };
}

/** Saves a screenshot into docs/screenshots when GOWIDE_SCREENSHOTS=1 (they are committed, so not on every run). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.GOWIDE_SCREENSHOTS !== '1') return;
  const dir = join(ROOT, 'docs/screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: false });
}
