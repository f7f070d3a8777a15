// The launch the extension resolves from gowide.sidecar.command starts the real sidecar, which answers
// LSP initialize (with the backend from initializationOptions) and the engine report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { EngineInfoRequest, type SidecarInitializationOptions } from '../../server/protocol';
import { resolveSidecarLaunch, type SidecarLaunch } from '../../extension/sidecar-launch';

const root = path.resolve(__dirname, '../..');
const cliBuilt = existsSync(path.join(root, 'server/cli.ts')) && existsSync(path.join(root, 'dist/cli.js'));
const skip = cliBuilt ? false : 'the CLI (server/cli.ts, built to dist/cli.js) is not there yet';

async function initializeThrough(launch: SidecarLaunch) {
  // Spawned the way vscode-languageclient spawns an Executable server.
  const child = spawn(launch.command, launch.args, {
    cwd: launch.cwd,
    env: { ...process.env, ...launch.env },
    shell: launch.shell,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.listen();
  try {
    const initializationOptions: SidecarInitializationOptions = { backend: 'cpu' };
    const result = await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
      initializationOptions,
    });
    await connection.sendNotification('initialized', {});
    const info = await connection.sendRequest(EngineInfoRequest, {});
    await connection.sendRequest('shutdown');
    await connection.sendNotification('exit');
    return { result: result as { serverInfo?: { name: string } }, info };
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nsidecar stderr:\n${stderr}`);
  } finally {
    connection.dispose();
    child.kill();
  }
}

test('default launch (host runtime as Node, bundled CLI) starts the sidecar', { skip, timeout: 60_000 }, async () => {
  const launch = resolveSidecarLaunch(undefined, { extensionPath: root, execPath: process.execPath, workspaceFolder: root });
  const { result, info } = await initializeThrough(launch);
  assert.equal(result.serverInfo?.name, 'gowide-sidecar');
  assert.equal(info.active, 'cpu');
  assert.equal(info.requested, 'cpu');
});

test('a shell command setting (as for ssh host gowide sidecar --stdio) starts the same sidecar', { skip, timeout: 60_000 }, async () => {
  const command = `"${process.execPath}" "\${extensionPath}/bin/gowide.js" sidecar --stdio`;
  const launch = resolveSidecarLaunch(command, { extensionPath: root, execPath: '/nonexistent', workspaceFolder: root });
  assert.equal(launch.shell, true);
  const { result } = await initializeThrough(launch);
  assert.equal(result.serverInfo?.name, 'gowide-sidecar');
});
