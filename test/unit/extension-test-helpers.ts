// Shared by the extension tests: talk to a sidecar started from a resolved launch; read a .vsix.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { inflateRawSync } from 'node:zlib';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { EngineInfoRequest, type BackendName, type EngineInfo, type SidecarInitializationOptions } from '../../server/protocol';
import type { SidecarLaunch } from '../../extension/sidecar-launch';

export interface InitializeOutcome {
  serverInfo?: { name: string; version?: string };
  info: EngineInfo;
}

/** Spawns the launch the way vscode-languageclient spawns an Executable server, initializes, asks for the engine report, shuts down. */
export async function initializeThrough(launch: SidecarLaunch, backend: BackendName): Promise<InitializeOutcome> {
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
    const initializationOptions: SidecarInitializationOptions = { backend };
    const result = (await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
      initializationOptions,
    })) as { serverInfo?: { name: string; version?: string } };
    await connection.sendNotification('initialized', {});
    const info = await connection.sendRequest(EngineInfoRequest, {});
    await connection.sendRequest('shutdown');
    await connection.sendNotification('exit');
    return { serverInfo: result.serverInfo, info };
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nsidecar stderr:\n${stderr}`);
  } finally {
    connection.dispose();
    child.kill();
  }
}

export interface ZipEntry {
  name: string;
  /** Decompressed bytes. */
  read(): Buffer;
}

/** The entries of a zip (a .vsix is one), read from its central directory; no unzip tool needed. */
export function zipEntries(zip: Buffer): ZipEntry[] {
  const endOfCentralDirectory = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(endOfCentralDirectory >= 0, 'not a zip file');
  const count = zip.readUInt16LE(endOfCentralDirectory + 10);
  let offset = zip.readUInt32LE(endOfCentralDirectory + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(offset), 0x02014b50, 'bad central directory entry');
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localHeader = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    entries.push({
      name,
      read() {
        const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
        const data = zip.subarray(dataStart, dataStart + compressedSize);
        if (method === 0) return Buffer.from(data);
        assert.equal(method, 8, `${name}: unsupported compression ${method}`);
        return inflateRawSync(data);
      },
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
