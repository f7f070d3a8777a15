// Reliability of the sidecar's input side (issue 7): huge and deeply nested bodies are refused quickly
// with bounded memory, the biggest legitimate request still gets through, and the process owns no
// network socket (it speaks only over stdin/stdout). All against the real built sidecar.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineInfoRequest, StartStageRequest, ValidateExperimentRequest } from '../../server/protocol';
import { MAX_JSON_DEPTH, MAX_MESSAGE_BYTES, nestedDeeperThan } from '../../server/rpc/framing-reader';
import { quickExperiment, writeExperiment } from './reliability-helpers';
import { frame, startBuiltSidecar, type SidecarUnderTest } from './sidecar-process';

const MB = 1024 * 1024;

function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Inodes of the sockets among a process's open files. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** Rows of /proc/<pid>/net/{tcp,tcp6,udp,udp6} (the process's network namespace) owned by `inodes`. */
function networkSocketsOf(pid: number, inodes: Set<string>): string[] {
  const rows: string[] = [];
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue; // no IPv6 here
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && inodes.has(fields[9]!)) rows.push(`${table} ${line.trim()}`);
    }
  }
  return rows;
}

describe('sidecar input limits and network exposure', () => {
  let sidecar: SidecarUnderTest;
  let pid: number;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gowide-rel-rpc-'));
    sidecar = startBuiltSidecar();
    pid = sidecar.child.pid!;
    await sidecar.initialize();
    await sidecar.connection.sendRequest(EngineInfoRequest, {});
  });

  after(async () => {
    await sidecar.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the nesting scan counts brackets outside strings only', () => {
    const deep = (n: number) => Buffer.from('['.repeat(n) + ']'.repeat(n));
    assert.equal(nestedDeeperThan(deep(MAX_JSON_DEPTH), MAX_JSON_DEPTH), false);
    assert.equal(nestedDeeperThan(deep(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH), true);
    const inString = Buffer.from(JSON.stringify({ text: '['.repeat(10_000) + '\\"[[[' }));
    assert.equal(nestedDeeperThan(inString, MAX_JSON_DEPTH), false, 'brackets inside strings (and after escaped quotes) do not count');
    assert.equal(nestedDeeperThan(Buffer.from('{"a":'.repeat(200)), MAX_JSON_DEPTH), true, 'objects count too');
  });

  test('a 31 MB body of "[" is refused at once, with bounded memory, and the next request is answered', async () => {
    const before = memoryOf(pid);
    const body = Buffer.alloc(31 * MB, '[');
    const started = performance.now();
    await sidecar.writeRaw(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]));
    const info = await sidecar.connection.sendRequest(EngineInfoRequest, {});
    const ms = performance.now() - started;
    const after = memoryOf(pid);
    const growth = after.hwm - before.hwm;
    console.log(`# 31 MB "[" body: next request answered after ${ms.toFixed(0)} ms; VmHWM ${(before.hwm / MB).toFixed(0)} -> ${(after.hwm / MB).toFixed(0)} MB`);
    assert.ok(info.active, 'answered');
    assert.ok(sidecar.idlessErrors.some((e) => /exceeds the \d+-byte limit/.test(e.message)), JSON.stringify(sidecar.idlessErrors.slice(-3)));
    assert.ok(ms < 2000, `answered after ${ms.toFixed(0)} ms (was about 8 s with a 32 MB limit)`);
    assert.ok(growth < 150 * MB, `peak memory grew by ${(growth / MB).toFixed(0)} MB (was about 1.5 GB)`);
  });

  test('a body of "[" just under the size limit is refused as too deep before JSON.parse', async () => {
    // The sidecar answers at most 50 bad inputs a second; let the last test's window pass.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const before = memoryOf(pid);
    const body = Buffer.alloc(MAX_MESSAGE_BYTES - 16, '[');
    const started = performance.now();
    await sidecar.writeRaw(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]));
    await sidecar.connection.sendRequest(EngineInfoRequest, {});
    const ms = performance.now() - started;
    const growth = memoryOf(pid).hwm - before.hwm;
    console.log(`# ${(body.length / MB).toFixed(1)} MB "[" body: next request answered after ${ms.toFixed(0)} ms; VmHWM grew ${(growth / MB).toFixed(0)} MB`);
    assert.ok(sidecar.idlessErrors.some((e) => /nested deeper than 128/.test(e.message)), JSON.stringify(sidecar.idlessErrors.slice(-3)));
    assert.ok(ms < 2000, `answered after ${ms.toFixed(0)} ms`);
    assert.ok(growth < 150 * MB, `peak memory grew by ${(growth / MB).toFixed(0)} MB`);
  });

  test('a large legitimate request (3 MB of experiment text) is still answered, sent in small pieces', async () => {
    const file = join(dir, 'big.gowide.json');
    const text = JSON.stringify({ name: 'big', description: 'd'.repeat(3 * MB), data: { format: 'shapes' }, model: { family: 'mlp', depth: 2, width: 4 } });
    writeFileSync(file, text);
    const id = 'big-request';
    const bytes = frame({ jsonrpc: '2.0', id, method: ValidateExperimentRequest.method, params: { path: file, text } });
    assert.ok(bytes.length < MAX_MESSAGE_BYTES);
    const before = sidecar.idlessErrors.length;
    for (let at = 0; at < bytes.length; at += 4096) await sidecar.writeRaw(bytes.subarray(at, at + 4096));
    await sidecar.connection.sendRequest(EngineInfoRequest, {});
    assert.equal(sidecar.idlessErrors.length, before, `no input errors: ${JSON.stringify(sidecar.idlessErrors.slice(before))}`);
    const result = await sidecar.connection.sendRequest(ValidateExperimentRequest, { path: file, text });
    assert.equal(typeof result.ok, 'boolean', 'a 3 MB request through the typed client is answered too');
  });

  test('the sidecar owns no network socket, before and after a training run', async () => {
    const check = (when: string) => {
      const inodes = socketInodes(pid);
      const rows = networkSocketsOf(pid, inodes);
      assert.deepEqual(rows, [], `${when}: sockets of the sidecar in the network tables`);
      return inodes.size;
    };
    check('after initialize');
    const file = writeExperiment(dir, quickExperiment('net'));
    const run = await sidecar.connection.sendRequest(StartStageRequest, { experimentPath: file, stage: 'all', runsDir: join(dir, 'runs'), wait: true });
    assert.equal(run.summary?.state, 'done', run.summary?.error);
    const sockets = check('after a training run');
    // ss, when present, agrees: nothing listening that belongs to this pid.
    try {
      const { execFileSync } = await import('node:child_process');
      const listening = execFileSync('ss', ['-H', '-ltunp'], { encoding: 'utf8' });
      assert.ok(!listening.includes(`pid=${pid},`), `ss lists a socket of the sidecar:\n${listening}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    console.log(`# sidecar pid ${pid}: ${sockets} socket file descriptors (the stdio socket pair from the test's spawn), none in tcp/tcp6/udp/udp6`);
  });
});
