// Starts the real built sidecar (node dist/cli.js sidecar --stdio) and connects a vscode-jsonrpc client.
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import type { LogParams } from '../../server/protocol';
import { LogNotification } from '../../server/protocol';

export const repoRoot = join(__dirname, '..', '..');
export const builtCli = join(repoRoot, 'dist', 'cli.js');

export interface SidecarUnderTest {
  child: ChildProcessWithoutNullStreams;
  connection: MessageConnection;
  logs: LogParams[];
  /** Everything the sidecar wrote to stderr so far. */
  stderr(): string;
  /** The LSP handshake: initialize with initializeParams, then initialized. */
  initialize(): Promise<void>;
  /** Writes raw bytes to the sidecar's stdin, bypassing the client's framing. */
  writeRaw(bytes: string | Buffer): Promise<void>;
  /** Bodies of responses with id null (errors for input that had no usable id). */
  idlessErrors: { code: number; message: string }[];
  stop(): Promise<void>;
}

/** `env`: the sidecar's environment (default: this process's). */
export function startBuiltSidecar(env: NodeJS.ProcessEnv = process.env): SidecarUnderTest {
  if (!existsSync(builtCli)) throw new Error(`${builtCli} is missing: run "npm run build" first`);
  const child = spawn(process.execPath, [builtCli, 'sidecar', '--stdio'], { cwd: repoRoot, stdio: 'pipe', env });
  let stderrText = '';
  child.stderr.on('data', (chunk: Buffer) => (stderrText += chunk.toString('utf8')));
  const idlessErrors: { code: number; message: string }[] = [];
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin), {
    error: (message: string) => {
      // vscode-jsonrpc logs responses without an id here; keep their error for the tests.
      const match = /Received response message without id: Error is:\s*(\{[\s\S]*\})/.exec(message);
      if (match) {
        try {
          idlessErrors.push(JSON.parse(match[1]!));
        } catch {
          idlessErrors.push({ code: 0, message });
        }
      }
    },
    warn: () => undefined,
    info: () => undefined,
    log: () => undefined,
  });
  const logs: LogParams[] = [];
  connection.onNotification(LogNotification, (params) => {
    logs.push(params);
  });
  connection.listen();
  return {
    child,
    connection,
    logs,
    idlessErrors,
    stderr: () => stderrText,
    initialize: async () => {
      await connection.sendRequest('initialize', initializeParams);
      await connection.sendNotification('initialized', {});
    },
    writeRaw: (bytes) =>
      new Promise<void>((resolve, reject) => child.stdin.write(bytes, (error) => (error ? reject(error) : resolve()))),
    stop: () => stopSidecarProcess(child, connection),
  };
}

/** Closes the connection and stdin, waits for the sidecar to exit, and kills it after 5 s. */
export async function stopSidecarProcess(child: ChildProcess, connection: MessageConnection): Promise<void> {
  connection.dispose();
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export function frame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

export const initializeParams = { processId: process.pid, rootUri: null, capabilities: {} };
