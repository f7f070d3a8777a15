// Drives the real built sidecar process over stdio with a vscode-jsonrpc client.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, ResponseError, CancellationTokenSource } from 'vscode-jsonrpc/node';
import { version } from '../../package.json';
import { EngineInfoRequest, SelectBackendRequest, StartStageRequest, StartSweepRequest, type EngineInfo } from '../../server/protocol';
import { frame, initializeParams, startBuiltSidecar, type SidecarUnderTest } from './sidecar-process';

const RequestCancelled = -32800;

async function rejectsWith(promise: Promise<unknown>, code: number): Promise<ResponseError<unknown>> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ResponseError, `expected a ResponseError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected an error with code ${code}`);
}

describe('sidecar over stdio', () => {
  let sidecar: SidecarUnderTest;
  const readerErrors: string[] = [];

  before(async () => {
    sidecar = startBuiltSidecar();
    // Anything on stdout that is not a framed message shows up as a reader error here.
    sidecar.connection.onError(([error]) => readerErrors.push(error.message));
  });

  after(async () => {
    await sidecar.stop();
  });

  /** A request that must still be answered after garbage. */
  async function assertStillAnswers(): Promise<void> {
    const info = await sidecar.connection.sendRequest(EngineInfoRequest, {});
    assert.equal(info.active, 'wasm');
  }

  test('answers initialize with serverInfo and capabilities', async () => {
    const result = (await sidecar.connection.sendRequest('initialize', initializeParams)) as {
      serverInfo: { name: string; version: string };
      capabilities: object;
    };
    assert.deepEqual(result.serverInfo, { name: 'gowide-sidecar', version });
    assert.equal(typeof result.capabilities, 'object');
    await sidecar.connection.sendNotification('initialized', {});
  });

  test('engineInfo names wasm as active and says why tfjs-node did not load', async () => {
    const info: EngineInfo = await sidecar.connection.sendRequest(EngineInfoRequest, {});
    assert.equal(info.active, 'wasm');
    assert.match(info.device, /WebAssembly/);
    assert.equal(info.backends.length, 5);
    const tensorflow = info.backends.find((b) => b.name === 'tensorflow');
    assert.equal(tensorflow?.ok, false);
    assert.match(tensorflow!.reason!, /npm install @tensorflow\/tfjs-node/);
    assert.ok(sidecar.logs.some((l) => /engine: using wasm/.test(l.message)), 'engine choice is logged to the client');
  });

  test('selectBackend switches to cpu and reports an unavailable backend with its reason', async () => {
    const cpu = await sidecar.connection.sendRequest(SelectBackendRequest, { backend: 'cpu' });
    assert.equal(cpu.active, 'cpu');
    const error = await rejectsWith(
      sidecar.connection.sendRequest(SelectBackendRequest, { backend: 'tensorflow' }),
      -32803,
    );
    assert.match(error.message, /tfjs-node is not installed/);
    const back = await sidecar.connection.sendRequest(SelectBackendRequest, { backend: 'wasm' });
    assert.equal(back.active, 'wasm');
  });

  test('a header without Content-Length gets a ParseError and the next request is answered', async () => {
    const before = sidecar.idlessErrors.length;
    await sidecar.writeRaw('garbage\r\nX-Other: 1\r\n\r\n');
    await assertStillAnswers();
    assert.equal(sidecar.idlessErrors[before]?.code, ErrorCodes.ParseError);
  });

  test('bytes that are not a header at all are skipped', async () => {
    await sidecar.writeRaw('hello world, this is not LSP\n');
    await assertStillAnswers();
  });

  test('a Content-Length larger than the body does not swallow the next message', async () => {
    await sidecar.writeRaw('Content-Length: 400\r\n\r\n{"jsonrpc":"2.0","id":');
    await assertStillAnswers();
  });

  test('a 50 MB Content-Length is refused and the next request is answered', async () => {
    const before = sidecar.idlessErrors.length;
    await sidecar.writeRaw(`Content-Length: ${50 * 1024 * 1024}\r\n\r\n{}`);
    await assertStillAnswers();
    assert.ok(sidecar.idlessErrors.slice(before).some((e) => /exceeds/.test(e.message)));
  });

  test('an invalid JSON body gets a ParseError', async () => {
    const before = sidecar.idlessErrors.length;
    await sidecar.writeRaw(frame('x').subarray(0, 0));
    await sidecar.writeRaw('Content-Length: 13\r\n\r\n{"jsonrpc": }');
    await assertStillAnswers();
    const errors = sidecar.idlessErrors.slice(before);
    assert.ok(errors.some((e) => e.code === ErrorCodes.ParseError && /invalid JSON/.test(e.message)), JSON.stringify(errors));
  });

  test('JSON that is not a JSON-RPC message gets InvalidRequest', async () => {
    const before = sidecar.idlessErrors.length;
    await sidecar.writeRaw(frame([1, 2, 3]));
    await sidecar.writeRaw(frame({ hello: 'world' }));
    await assertStillAnswers();
    const codes = sidecar.idlessErrors.slice(before).map((e) => e.code);
    assert.deepEqual(codes, [ErrorCodes.InvalidRequest, ErrorCodes.InvalidRequest]);
  });

  test('an unknown method gets MethodNotFound', async () => {
    await rejectsWith(sidecar.connection.sendRequest('gowide/doesNotExist', {}), ErrorCodes.MethodNotFound);
    await sidecar.connection.sendNotification('gowide/unknownNotification', {});
    await assertStillAnswers();
  });

  test('wrong param types get InvalidParams naming the field', async () => {
    const wrongBackend = await rejectsWith(
      sidecar.connection.sendRequest(SelectBackendRequest, { backend: 7 } as never),
      ErrorCodes.InvalidParams,
    );
    assert.deepEqual(wrongBackend.data, { field: 'backend' });
    const wrongStage = await rejectsWith(
      sidecar.connection.sendRequest(StartStageRequest, { experimentPath: 'x.gowide.json', stage: 'sideways' } as never),
      ErrorCodes.InvalidParams,
    );
    assert.match(wrongStage.message, /"stage" must be one of/);
    // The launch options are checked field by field, their path named, before any run folder or job exists.
    const wrongLauncher = await rejectsWith(
      sidecar.connection.sendRequest(StartStageRequest, { experimentPath: 'x.gowide.json', stage: 'all', launch: { launcher: 'kubernetes' } } as never),
      ErrorCodes.InvalidParams,
    );
    assert.deepEqual(wrongLauncher.data, { field: 'launch.launcher' });
    assert.match(wrongLauncher.message, /"launch.launcher" must be one of local, slurm/);
    const noSlots = await rejectsWith(
      sidecar.connection.sendRequest(StartSweepRequest, { experimentPath: 'x.gowide.json', launch: { launcher: 'local', jobs: 0 } } as never),
      ErrorCodes.InvalidParams,
    );
    assert.match(noSlots.message, /"launch.jobs" must be at least 1; got 0/);
    const notAnObject = await rejectsWith(
      sidecar.connection.sendRequest(EngineInfoRequest, 'refresh' as never),
      ErrorCodes.InvalidParams,
    );
    assert.match(notAnObject.message, /params must be an object/);
    await assertStillAnswers();
  });

  test('a cancelled engineInfo request is answered with RequestCancelled', async () => {
    // A cancellation that reaches the sidecar after the probe finished is rightly ignored (LSP); on a
    // loaded machine that can happen once, so a few attempts are allowed, and one must be cancelled.
    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 3 && !outcomes.includes('cancelled'); attempt++) {
      const source = new CancellationTokenSource();
      const pending = sidecar.connection.sendRequest(EngineInfoRequest, { refresh: true }, source.token);
      source.cancel();
      try {
        await pending;
        outcomes.push('answered');
      } catch (error) {
        assert.ok(error instanceof ResponseError, `expected a ResponseError, got ${String(error)}`);
        assert.equal(error.code, RequestCancelled, error.message);
        outcomes.push('cancelled');
      }
    }
    assert.ok(outcomes.includes('cancelled'), `no attempt was cancelled: ${outcomes.join(', ')}`);
    await assertStillAnswers();
  });

  test('stdout carried only protocol messages', () => {
    assert.deepEqual(readerErrors, []);
    assert.equal(sidecar.child.exitCode, null, 'the sidecar is still running');
  });
});
