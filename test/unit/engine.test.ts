// Engine backend choice on this machine (no GPU, no tfjs-node): wasm is best, cpu can be named,
// tensorflow fails with a reason that says how to install it. Passes with or without VK_ICD_FILENAMES.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_NAMES } from '../../server/protocol';
import { BackendUnavailableError, EngineCancelledError, getEngineInfo, initEngine, probeBackends } from '../../server/engine/engine';

test('picks wasm as the best backend that trains here and lists all five probes', async () => {
  const info = await initEngine();
  assert.equal(info.active, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(info.requested, undefined);
  assert.deepEqual(
    info.backends.map((b) => b.name),
    [...BACKEND_NAMES],
  );
  for (const probe of info.backends) {
    assert.equal(typeof probe.seconds, 'number');
    if (probe.ok) assert.equal(probe.reason, undefined);
    else assert.ok(probe.reason && probe.reason.length > 20, `${probe.name} needs a reason`);
  }
  const byName = Object.fromEntries(info.backends.map((b) => [b.name, b]));
  assert.equal(byName.wasm!.ok, true);
  assert.equal(byName.cpu!.ok, true);
  assert.equal(byName.tensorflow!.ok, false);
  assert.match(byName.tensorflow!.reason!, /@tensorflow\/tfjs-node is not installed.*npm install @tensorflow\/tfjs-node/s);
  assert.match(byName['tensorflow-gpu']!.reason!, /CUDA 11\.2/);
  // No GPU here: no adapter at all, or (VK_ICD_FILENAMES naming SwiftShader) a software one, never
  // chosen by itself (test/unit/engine-webgpu.test.ts covers both in child processes).
  assert.equal(byName.webgpu!.ok, false);
  assert.match(byName.webgpu!.reason!, /libvulkan\.so\.1|no WebGPU adapter|only a software adapter/);
  assert.match(info.device, /^CPU: .+ x\d+, WebAssembly/);
  assert.equal(info.tfjsVersion, tf.version.tfjs);
  assert.equal(info.nodeVersion, process.versions.node);
  assert.deepEqual(getEngineInfo(), info);
});

test('naming cpu gives cpu', async () => {
  const info = await initEngine({ backend: 'cpu' });
  assert.equal(info.active, 'cpu');
  assert.equal(info.requested, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.match(info.device, /pure JavaScript/);
});

test('naming tensorflow fails with the actionable reason and keeps the active backend', async () => {
  await initEngine({ backend: 'wasm' });
  await assert.rejects(initEngine({ backend: 'tensorflow' }), (error: unknown) => {
    assert.ok(error instanceof BackendUnavailableError);
    assert.equal(error.backend, 'tensorflow');
    assert.match(error.message, /npm install @tensorflow\/tfjs-node/);
    assert.equal(error.info?.backends.length, BACKEND_NAMES.length);
    assert.equal(error.info?.active, null, 'a backend that failed is not reported active');
    return true;
  });
  assert.equal(tf.getBackend(), 'wasm');
});

test('a refreshed probe can be cancelled', async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(probeBackends({ refresh: true, signal: controller.signal }), EngineCancelledError);
  // The engine still answers afterwards.
  const probes = await probeBackends({ refresh: true });
  assert.equal(probes.length, BACKEND_NAMES.length);
});
