// Runs the extension-host suite (test/e2e/host/suite.ts) in a desktop VS Code through
// @vscode/test-electron 2.5 (the 2.x line runs on Node 20). The VS Code is, in this order:
//   $GOWIDE_VSCODE_EXECUTABLE                 the Electron binary of an installed VS Code;
//   a VS Code in a usual place                /usr/share/code/code, the snap, /opt, macOS's app bundle;
//   a download, with GOWIDE_VSCODE_DOWNLOAD=1 test-electron fetches $GOWIDE_VSCODE_VERSION (default stable)
//                                             into .vscode-test/ (needs update.code.visualstudio.com).
// Where none is available it says so and exits 0: the suite is reported as not run, never as passed.
// On Linux without a display, run it under xvfb-run (Debian's xvfb package).
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { ROOT } from './code-server';

const KNOWN_PATHS = [
  '/usr/share/code/code',
  '/snap/code/current/usr/share/code/code',
  '/opt/visual-studio-code/code',
  '/usr/lib/code/code',
  join(homedir(), '.local/share/code/code'),
  '/Applications/Visual Studio Code.app/Contents/MacOS/Electron',
];

async function findVsCode(): Promise<{ path?: string; why: string }> {
  const fromEnv = process.env.GOWIDE_VSCODE_EXECUTABLE;
  if (fromEnv) return { path: fromEnv, why: '$GOWIDE_VSCODE_EXECUTABLE' };
  const known = KNOWN_PATHS.find((p) => existsSync(p));
  if (known) return { path: known, why: 'installed' };
  const looked = `looked at ${KNOWN_PATHS.join(', ')}`;
  if (process.env.GOWIDE_VSCODE_DOWNLOAD !== '1') return { why: `${looked}; set GOWIDE_VSCODE_EXECUTABLE, or GOWIDE_VSCODE_DOWNLOAD=1 to download one` };
  const { downloadAndUnzipVSCode } = await import('@vscode/test-electron');
  try {
    return { path: await downloadAndUnzipVSCode(process.env.GOWIDE_VSCODE_VERSION ?? 'stable'), why: 'downloaded' };
  } catch (error) {
    return { why: `${looked}; the download failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

async function main(): Promise<number> {
  const found = await findVsCode();
  if (!found.path) {
    console.log(`test-electron: not run (no desktop VS Code available: ${found.why})`);
    return 0;
  }
  if (!existsSync(found.path)) {
    console.error(`test-electron: failed: ${found.path} (${found.why}) does not exist`);
    return 1;
  }
  if (!existsSync(join(ROOT, 'dist/extension.js'))) {
    console.error('test-electron: dist/extension.js is missing; run npm run build first');
    return 1;
  }
  const work = mkdtempSync(join(tmpdir(), 'gowide-electron-'));
  const suite = join(work, 'suite.js');
  await esbuild.build({ entryPoints: [join(ROOT, 'test/e2e/host/suite.ts')], outfile: suite, bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], logLevel: 'warning' });
  const workspace = join(work, 'workspace');
  cpSync(join(ROOT, 'test/e2e/workspace'), workspace, { recursive: true });
  console.log(`test-electron: running the extension-host suite in ${found.path} (${found.why})`);
  const { runTests } = await import('@vscode/test-electron');
  try {
    await runTests({
      vscodeExecutablePath: found.path,
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: suite,
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--user-data-dir', join(work, 'user-data'), '--no-sandbox', '--disable-gpu'],
    });
  } catch (error) {
    console.error(`test-electron: failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  console.log('test-electron: passed');
  return 0;
}

main().then((code) => process.exit(code), (error) => {
  console.error(error);
  process.exit(1);
});
