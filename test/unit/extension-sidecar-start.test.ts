// The launch the extension resolves from gowide.sidecar.command starts the real sidecar, which answers
// LSP initialize (with the backend from initializationOptions) and the engine report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { resolveSidecarLaunch } from '../../extension/sidecar-launch';
import { initializeThrough } from './extension-test-helpers';

const root = path.resolve(__dirname, '../..');
const cliBuilt = existsSync(path.join(root, 'server/cli.ts')) && existsSync(path.join(root, 'dist/cli.js'));
const skip = cliBuilt ? false : 'the CLI (server/cli.ts, built to dist/cli.js) is not there yet';

test('default launch (host runtime as Node, bundled CLI) starts the sidecar', { skip, timeout: 60_000 }, async () => {
  const launch = resolveSidecarLaunch(undefined, { extensionPath: root, execPath: process.execPath, workspaceFolder: root });
  const { serverInfo, info } = await initializeThrough(launch, 'cpu');
  assert.equal(serverInfo?.name, 'gowide-sidecar');
  assert.equal(info.active, 'cpu');
  assert.equal(info.requested, 'cpu');
});

test('a shell command setting (as for ssh host gowide sidecar --stdio) starts the same sidecar', { skip, timeout: 60_000 }, async () => {
  const command = `"${process.execPath}" "\${extensionPath}/bin/gowide.js" sidecar --stdio`;
  const launch = resolveSidecarLaunch(command, { extensionPath: root, execPath: '/nonexistent', workspaceFolder: root });
  assert.equal(launch.shell, true);
  const { serverInfo } = await initializeThrough(launch, 'cpu');
  assert.equal(serverInfo?.name, 'gowide-sidecar');
});
