// The gowide CLI as a user runs it: node bin/gowide.js ...
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { version } from '../../package.json';
import type { EngineInfo } from '../../server/protocol';
import { repoRoot } from './sidecar-process';

function gowide(...args: string[]) {
  return gowideWith({}, ...args);
}

function gowideWith(env: Record<string, string>, ...args: string[]) {
  const result = spawnSync(process.execPath, [join(repoRoot, 'bin', 'gowide.js'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('info --json prints one JSON object naming the active backend', () => {
  const { code, stdout } = gowide('info', '--json');
  assert.equal(code, 0);
  const info = JSON.parse(stdout) as EngineInfo;
  assert.equal(info.active, 'wasm');
  assert.equal(info.backends.length, 5);
  assert.match(info.backends.find((b) => b.name === 'tensorflow')!.reason!, /not installed/);
});

test('info prints a table; info --backend tensorflow fails with the reason', () => {
  const table = gowide('info');
  assert.equal(table.code, 0);
  assert.match(table.stdout, /Active backend: wasm/);
  assert.match(table.stdout, /tensorflow-gpu\s+no\s+@tensorflow\/tfjs-node-gpu is not installed/);
  const named = gowide('info', '--backend', 'tensorflow', '--json');
  assert.equal(named.code, 1);
  assert.match((JSON.parse(named.stdout) as { error: string }).error, /npm install @tensorflow\/tfjs-node/);
  const cpu = gowide('info', '--backend=cpu', '--json');
  assert.equal(cpu.code, 0);
  assert.equal((JSON.parse(cpu.stdout) as EngineInfo).active, 'cpu');
});

test('info names the kernels OpenBLAS chose for this CPU, which OPENBLAS_CORETYPE overrides', (t) => {
  const blasNote = (env: Record<string, string>) => (JSON.parse(gowideWith(env, 'info', '--json').stdout) as EngineInfo).notes.find((n) => n.startsWith('native OpenBLAS kernels'));
  const chosen = blasNote({});
  if (!chosen && process.env.GOWIDE_REQUIRE_NATIVE !== '1') return t.skip('the native addon is not built');
  assert.match(chosen ?? '', /; OpenBLAS's [A-Za-z0-9]+ kernels for this CPU\)/);
  assert.match(blasNote({ OPENBLAS_CORETYPE: 'Haswell' }) ?? '', /; OpenBLAS's Haswell kernels for this CPU\)/);
});

test('sidecar without --stdio, unknown commands and bad options exit 2 with usage on stderr', () => {
  const sidecar = gowide('sidecar');
  assert.equal(sidecar.code, 2);
  assert.match(sidecar.stderr, /only the stdio transport/);
  assert.equal(sidecar.stdout, '');
  const unknown = gowide('frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"[\s\S]*Usage:/);
  assert.equal(gowide('info', '--backend', 'tpu').code, 2);
});

test('help and --version', () => {
  const help = gowide('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /gowide sidecar --stdio/);
  assert.equal(gowide('--version').stdout.trim(), version);
});
