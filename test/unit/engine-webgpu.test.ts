// The webgpu probe's adapter policy, through the built CLI and sidecar in child processes (the Vulkan
// driver Dawn sees is chosen by VK_ICD_FILENAMES, which must be set before Dawn starts): SwiftShader,
// a software adapter, is never chosen automatically, naming webgpu still uses it, and whatever Dawn
// prints on stderr ends up in the probe instead of the terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { EngineInfoRequest, SelectBackendRequest, type BackendProbe, type EngineInfo, type EngineProbeReport } from '../../server/protocol';
import { repoRoot, startBuiltSidecar } from '../sidecar/sidecar-process';
import { swiftshaderEnv, swiftshaderOrSkip } from './swiftshader';

/** Without XDG_RUNTIME_DIR, as under a service or in a container, where Dawn used to complain about it. */
function bareEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { XDG_RUNTIME_DIR: _, ...rest } = env;
  return rest;
}

function gowideInfo(env: NodeJS.ProcessEnv, ...args: string[]) {
  const result = spawnSync(process.execPath, [join(repoRoot, 'bin', 'gowide.js'), 'info', ...args], {
    cwd: repoRoot,
    env: bareEnv(env),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function webgpuProbe(info: { backends: BackendProbe[] }): BackendProbe {
  return info.backends.find((probe) => probe.name === 'webgpu')!;
}

function assertSwiftshaderAdapter(probe: BackendProbe): void {
  const adapter = probe.adapter;
  assert.ok(adapter, 'the probe names the adapter Dawn offered');
  assert.equal(adapter.kind, 'software');
  assert.equal(adapter.fallback, true);
  assert.equal(adapter.vendor, 'google');
  assert.equal(adapter.architecture, 'swiftshader');
  assert.match(adapter.driver, /^SwiftShader driver \d/);
  assert.ok(adapter.limits.maxBufferSize >= 256 * 2 ** 20, `maxBufferSize ${adapter.limits.maxBufferSize}`);
  assert.ok(adapter.limits.maxComputeInvocationsPerWorkgroup >= 64);
}

test('with only SwiftShader, gowide info does not pick webgpu and says why; Dawn prints nothing', (t) => {
  if (!swiftshaderOrSkip(t)) return;
  const { code, stdout, stderr } = gowideInfo(swiftshaderEnv(), '--json');
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '', 'nothing from Dawn or Vulkan on stderr');
  const info = JSON.parse(stdout) as EngineInfo;
  assert.equal(info.active, 'wasm');
  const webgpu = webgpuProbe(info);
  assert.equal(webgpu.ok, false);
  assert.match(webgpu.reason!, /only a software adapter \(SwiftShader driver [\d.]+, google\).*slower than wasm/);
  assert.match(webgpu.reason!, /--backend webgpu/);
  assertSwiftshaderAdapter(webgpu);

  const text = gowideInfo(swiftshaderEnv());
  assert.equal(text.stderr, '');
  assert.match(text.stdout, /Active backend: wasm/);
  assert.match(text.stdout, /WebGPU adapter:\n\s+Name:\s+google swiftshader/);
  assert.match(text.stdout, /Kind:\s+software \(Dawn marks it a fallback adapter\)/);
  assert.match(text.stdout, /Limits:\s+maxBufferSize [\d.]+ [GM]iB, maxStorageBufferBindingSize .*maxComputeWorkgroupStorageSize \d+ KiB/);
});

test('--backend webgpu uses the software adapter and describes it', (t) => {
  if (!swiftshaderOrSkip(t)) return;
  const { code, stdout, stderr } = gowideInfo(swiftshaderEnv(), '--backend', 'webgpu', '--json');
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
  const info = JSON.parse(stdout) as EngineInfo;
  assert.equal(info.active, 'webgpu');
  assert.equal(info.requested, 'webgpu');
  assert.match(info.device, /^GPU: google swiftshader .*\(software\), SwiftShader driver/);
  const webgpu = webgpuProbe(info);
  assert.equal(webgpu.ok, true);
  assert.equal(webgpu.reason, undefined);
  assertSwiftshaderAdapter(webgpu);
});

test('a named backend that fails is not reported active; Dawn\'s warnings go into its reason', () => {
  // A driver list naming a file that does not exist: the Vulkan loader warns on stderr and finds no GPU.
  const missingIcd = join(repoRoot, 'no-such-vulkan-icd.json');
  const env = { ...process.env, VK_ICD_FILENAMES: missingIcd };
  const json = gowideInfo(env, '--backend', 'webgpu', '--json');
  assert.equal(json.code, 1);
  assert.equal(json.stderr, '');
  const report = JSON.parse(json.stdout) as EngineProbeReport & { error: string; device?: string };
  assert.equal(report.active, null);
  assert.equal(report.device, undefined);
  assert.equal(report.requested, 'webgpu');
  assert.match(report.error, /backend "webgpu" is not available: no WebGPU adapter found/);
  const webgpu = webgpuProbe(report);
  assert.equal(webgpu.ok, false);
  assert.match(webgpu.reason!, /Dawn said: .*Failed to open JSON file .*no-such-vulkan-icd\.json/);
  assert.ok(webgpu.driverMessages?.some((line) => line.includes('no-such-vulkan-icd.json')));

  const text = gowideInfo(env, '--backend', 'webgpu');
  assert.equal(text.code, 1);
  assert.match(text.stdout, /Active backend: none/);
  assert.match(text.stderr, /^gowide info: backend "webgpu" is not available: no WebGPU adapter found/);
  assert.doesNotMatch(text.stderr, /^Warning:/m, 'the loader\'s own lines stay in the reason');
});

test('the sidecar picks wasm; selectBackend webgpu then uses the adapter the auto probe held back', async (t) => {
  if (!swiftshaderOrSkip(t)) return;
  const sidecar = startBuiltSidecar(bareEnv(swiftshaderEnv()));
  try {
    const auto: EngineInfo = await sidecar.connection.sendRequest(EngineInfoRequest, {});
    assert.equal(auto.active, 'wasm');
    assert.equal(webgpuProbe(auto).ok, false);
    assertSwiftshaderAdapter(webgpuProbe(auto));

    const forced = await sidecar.connection.sendRequest(SelectBackendRequest, { backend: 'webgpu' });
    assert.equal(forced.active, 'webgpu');
    assert.equal(webgpuProbe(forced).ok, true);
    assert.match(forced.device, /\(software\)/);

    const back = await sidecar.connection.sendRequest(SelectBackendRequest, { backend: 'wasm' });
    assert.equal(back.active, 'wasm');
    // The sidecar logs to stderr, each line tagged; Dawn's would not be.
    const foreign = sidecar.stderr().split('\n').filter((line) => line && !line.startsWith('[gowide-sidecar '));
    assert.deepEqual(foreign, []);
  } finally {
    await sidecar.stop();
  }
});
