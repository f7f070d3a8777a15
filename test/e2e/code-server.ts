// Starts a real VS Code (code-server 4.139, Code 1.139) with the packaged extension installed into a
// fresh user-data and extensions folder, and Debian's Chromium (through playwright-core) on its workbench.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { packageFile } from '../../scripts/package-targets';

export const ROOT = resolve(import.meta.dirname, '../..');
/** Screenshots of every step (a scenario may use a folder inside). */
export const E2E_ARTIFACTS = process.env.GOWIDE_E2E_ARTIFACTS ?? join(ROOT, 'test/e2e/artifacts');

export interface Tools {
  nodeBin: string;
  codeServer: string;
  chromium: string;
}

/** Runs test/e2e/setup.sh (installs into ~/.cache/gowide-e2e once) and reads the paths it prints. */
export function installTools(): Tools {
  const out = execFileSync('bash', [join(ROOT, 'test/e2e/setup.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const values = Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const tools = { nodeBin: values.NODE_BIN, codeServer: values.CODE_SERVER, chromium: values.CHROMIUM };
  for (const [name, path] of Object.entries(tools)) if (!path || !existsSync(path)) throw new Error(`e2e setup did not provide ${name} (got ${path})`);
  return tools;
}

/** The .vsix under test: $GOWIDE_E2E_VSIX, else a fresh linux-x64 package (code-server here runs on linux-x64). */
export function packageExtension(): string {
  if (process.env.GOWIDE_E2E_VSIX) return resolve(process.env.GOWIDE_E2E_VSIX);
  const target = 'linux-x64';
  execFileSync('npm', ['run', 'package', '--silent', '--', target], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return join(ROOT, packageFile(target));
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export const USER_SETTINGS = {
  'workbench.colorTheme': 'Default Dark Modern',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'security.workspace.trust.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'editor.inlayHints.enabled': 'on',
  'editor.inlayHints.maximumLength': 0,
  'editor.minimap.enabled': false,
  'files.autoSave': 'off',
  'window.zoomLevel': 0,
};

export interface Workbench {
  /** Folder opened in the workbench (a copy of the fixture workspace). */
  workspace: string;
  userDataDir: string;
  browser: Browser;
  page: Page;
  /** code-server's output so far, for failure messages. */
  log(): string;
  close(): Promise<void>;
}

export interface StartOptions {
  tools: Tools;
  vsix: string;
  fixture: string;
  /** Added to code-server's environment (the extension host and the sidecar inherit it). */
  env?: NodeJS.ProcessEnv;
  width?: number;
  height?: number;
}

export async function startWorkbench(options: StartOptions): Promise<Workbench> {
  const { tools } = options;
  const base = mkdtempSync(join(tmpdir(), 'gowide-e2e-'));
  const userDataDir = join(base, 'user-data');
  const extensionsDir = join(base, 'extensions');
  const workspace = join(base, 'workspace');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  cpSync(options.fixture, workspace, { recursive: true });
  const settingsFile = join(userDataDir, 'User', 'settings.json');
  writeFileSync(settingsFile, JSON.stringify(USER_SETTINGS, null, 2));
  const env = { ...process.env, ...options.env, PATH: `${tools.nodeBin}:${process.env.PATH}`, GOWIDE_E2E: '1' };
  const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
  execFileSync(tools.codeServer, [...common, '--install-extension', options.vsix], { env, stdio: ['ignore', 'pipe', 'pipe'] });

  const port = await freePort();
  let output = '';
  const server: ChildProcess = spawn(
    tools.codeServer,
    ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', ...common, workspace],
    { env, cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  server.stdout!.on('data', (d) => (output += d));
  server.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, () => output);

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: tools.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: options.width ?? 1400, height: options.height ?? 860 } });
  await page.goto(url);
  return {
    workspace,
    userDataDir,
    browser,
    page,
    log: () => output,
    async close() {
      await browser.close().catch(() => undefined);
      if (server.pid !== undefined && server.exitCode === null) {
        // code-server forks its extension host and the sidecar: end the whole process group we started.
        try {
          process.kill(-server.pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
    },
  };
}

async function waitForHttp(url: string, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`code-server did not answer ${url} within ${timeoutMs / 1000} s. Its output:\n${log()}`);
}
