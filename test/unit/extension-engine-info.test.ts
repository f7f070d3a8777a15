import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineInfo, GpuAdapterInfo, LogLevel } from '../../server/protocol';
import { BACKEND_NAMES } from '../../server/protocol';
import { backendRows, engineInfoMarkdown, engineTooltip, statusBarView } from '../../extension/engine-info-view';
import { writeSidecarLog, type LevelledLog } from '../../extension/sidecar-log';

const info: EngineInfo = {
  active: 'wasm',
  device: 'CPU (2 cores, WebAssembly SIMD)',
  backends: [
    { name: 'tensorflow-gpu', ok: false, reason: 'libcudart.so.11.0 not found: install CUDA 11.2 and cuDNN 8.1', seconds: 0.01 },
    { name: 'tensorflow', ok: false, reason: '@tensorflow/tfjs-node is not installed | optional', seconds: 0.02 },
    { name: 'webgpu', ok: false, reason: 'no WebGPU adapter\n(no GPU found)', seconds: 0.3 },
    { name: 'wasm', ok: true, seconds: 0.5 },
  ],
  tfjsVersion: '4.22.0',
  nodeVersion: 'v20.20.2',
  notes: ['BatchMatMul: OpenBLAS kernel'],
};

test('status bar shows the active backend and opens the engine report', () => {
  const view = statusBarView({ kind: 'running', info });
  assert.equal(view.text, '$(pulse) gowide: wasm');
  assert.equal(view.command, 'gowide.showEngineInfo');
  assert.equal(view.error, false);
  assert.match(view.tooltip, /Device: CPU \(2 cores, WebAssembly SIMD\)/);
  assert.match(view.tooltip, /tensorflow-gpu: libcudart\.so\.11\.0/);
  assert.doesNotMatch(view.tooltip, /^wasm:/m, 'a backend that loaded has no failure line');
});

test('status bar states before the report and after giving up', () => {
  assert.match(statusBarView({ kind: 'starting' }).text, /starting/);
  assert.match(statusBarView({ kind: 'running' }).text, /^\$\(pulse\) gowide$/);
  const restarting = statusBarView({ kind: 'restarting', delayMs: 4000, attempt: 3 });
  assert.match(restarting.tooltip, /restart 3 in 4 s/);
  const stopped = statusBarView({ kind: 'stopped', reason: 'crashed 5 times' });
  assert.equal(stopped.error, true);
  assert.equal(stopped.command, 'gowide.restartSidecar');
  assert.match(stopped.tooltip, /crashed 5 times/);
});

test('a requested backend is named in the tooltip', () => {
  assert.match(engineTooltip({ ...info, requested: 'wasm' }), /Backend: wasm \(requested wasm\)/);
});

test('one row per known backend in preference order, with status and the reason', () => {
  const rows = backendRows(info);
  assert.deepEqual(rows.map((r) => r.name), [...BACKEND_NAMES]);
  assert.deepEqual(rows.map((r) => r.status), ['unavailable', 'unavailable', 'unavailable', 'active', 'not probed']);
  assert.match(rows[0].detail, /CUDA 11\.2/);
  assert.match(rows[3].detail, /WebAssembly SIMD\); probe took 0\.50 s/);
  const withCpu = backendRows({ ...info, backends: [...info.backends, { name: 'cpu', ok: true, seconds: 0.1 }] });
  assert.equal(withCpu[4].status, 'available');
});

test('the markdown report is a table that survives pipes and newlines in reasons', () => {
  const markdown = engineInfoMarkdown(info);
  assert.match(markdown, /^# Go Wide engine/);
  assert.match(markdown, /\*\*Active backend:\*\* wasm \(chosen automatically\)/);
  const tableRows = markdown.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| ---'));
  assert.equal(tableRows.length, 1 + BACKEND_NAMES.length);
  for (const row of tableRows) assert.equal(row.split(/(?<!\\)\|/).length, 5, row);
  assert.match(markdown, /no WebGPU adapter \(no GPU found\)/);
  assert.match(markdown, /## Notes\n\n- BatchMatMul: OpenBLAS kernel/);
});

const swiftshader: GpuAdapterInfo = {
  name: 'google swiftshader swiftshader-device-subzero',
  kind: 'software',
  vendor: 'google',
  architecture: 'swiftshader',
  device: 'swiftshader-device-subzero',
  driver: 'SwiftShader driver 5.0.0',
  fallback: true,
  limits: {
    maxBufferSize: 2 ** 30,
    maxStorageBufferBindingSize: 2 ** 30,
    maxComputeWorkgroupStorageSize: 32768,
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupSizeX: 256,
    maxComputeWorkgroupsPerDimension: 65535,
  },
};

test('on webgpu the status bar names it and the tooltip and report name the adapter', () => {
  const onGpu: EngineInfo = {
    ...info,
    active: 'webgpu',
    requested: 'webgpu',
    device: 'GPU: google swiftshader swiftshader-device-subzero (software), SwiftShader driver 5.0.0, WebGPU (Dawn)',
    backends: info.backends.map((probe) => (probe.name === 'webgpu' ? { name: 'webgpu', ok: true, seconds: 0.4, adapter: swiftshader } : probe)),
  };
  const view = statusBarView({ kind: 'running', info: onGpu });
  assert.equal(view.text, '$(pulse) gowide: webgpu');
  assert.match(view.tooltip, /^WebGPU adapter: google swiftshader swiftshader-device-subzero \(software\), SwiftShader driver 5\.0\.0$/m);
  const markdown = engineInfoMarkdown(onGpu);
  assert.match(markdown, /## WebGPU adapter\n\n- \*\*Name:\*\* google swiftshader/);
  assert.match(markdown, /- \*\*Kind:\*\* software \(Dawn marks it a fallback adapter\)/);
  assert.match(markdown, /- \*\*Limits:\*\* maxBufferSize 1\.0 GiB, .*maxComputeWorkgroupStorageSize 32 KiB, maxComputeInvocationsPerWorkgroup 256/);
});

test('a software adapter that trains but was not chosen says why in its row', () => {
  const heldBack: EngineInfo = {
    ...info,
    backends: info.backends.map((probe) => (probe.name === 'webgpu' ? { name: 'webgpu', ok: true, seconds: 0.4, adapter: swiftshader } : probe)),
  };
  const row = backendRows(heldBack).find((r) => r.name === 'webgpu')!;
  assert.equal(row.status, 'available');
  assert.match(row.detail, /probe took 0\.40 s; only a software adapter \(SwiftShader driver 5\.0\.0, google\).*not chosen automatically/);
  assert.doesNotMatch(engineInfoMarkdown(info), /## WebGPU adapter/, 'no adapter section when Dawn found none');
});

test('sidecar log lines land on the matching level', () => {
  const seen: [string, string][] = [];
  const channel: LevelledLog = {
    trace: (m) => seen.push(['trace', m]),
    debug: (m) => seen.push(['debug', m]),
    info: (m) => seen.push(['info', m]),
    warn: (m) => seen.push(['warn', m]),
    error: (m) => seen.push(['error', m]),
  };
  const levels: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];
  for (const level of levels) writeSidecarLog(channel, { level, message: `a ${level} line` });
  writeSidecarLog(channel, { level: 'verbose' as LogLevel, message: 'unknown level' });
  assert.deepEqual(seen, [...levels.map((l) => [l, `a ${l} line`]), ['info', 'unknown level']]);
});
