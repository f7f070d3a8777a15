// Whole experiments on webgpu through SwiftShader, as a user runs them: `gowide run FILE --backend
// webgpu --json` for a small experiment of each family (test/fixtures/webgpu/), all four arms, with
// the accuracies of the same file on wasm; and one run over JSON-RPC in the real sidecar process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SelectBackendRequest, StartStageRequest } from '../../server/protocol';
import type { RunSummary } from '../../server/protocol';
import { SWIFTSHADER_ICD, requireWebgpu, swiftshaderEnv, swiftshaderFound } from '../unit/swiftshader';
import { repoRoot, startBuiltSidecar } from './sidecar-process';

const FIXTURES = join(repoRoot, 'test', 'fixtures', 'webgpu');
const ARMS = ['wide', 'scratch', 'kd', 'win'] as const;
/** webgpu and wasm round differently in float32; an arm may flip this many test examples. */
const FLIPPED_EXAMPLES = 2;
const TEST_EXAMPLES = 64;

const skip = swiftshaderFound() ? false : `SwiftShader's Vulkan driver is missing (${SWIFTSHADER_ICD}): apt-get install chromium libvulkan1`;
if (skip && requireWebgpu) throw new Error(skip);

type CliSummary = Pick<RunSummary, 'state' | 'arms'> & { backend: string; error?: string };

/** User + system CPU seconds a process (all its threads: SwiftShader's workers too) has used so far,
 *  from /proc; undefined where there is none. */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function gowideRun(file: string, backend: 'webgpu' | 'wasm'): Promise<{ summary: CliSummary; seconds: number; cpu?: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'gowide.js'), 'run', file, '--backend', backend, '--json'], { env: swiftshaderEnv() });
  // Sampled until the child exits (the last sample is at most this late): the test reports CPU beside wall time.
  let cpu: number | undefined;
  const sampler = setInterval(() => (cpu = cpuSeconds(child.pid) ?? cpu), 250);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(sampler);
      if (code !== 0) return reject(new Error(`gowide run ${file} --backend ${backend} exited ${code}: ${stderr}`));
      resolve({ summary: JSON.parse(stdout) as CliSummary, seconds: (Date.now() - started) / 1000, cpu });
    });
  });
}

function assertAllArms(summary: CliSummary, what: string): void {
  assert.equal(summary.state, 'done', `${what}: ${summary.error ?? ''}`);
  for (const arm of ARMS) assert.ok(summary.arms?.[arm], `${what}: arm ${arm} is missing`);
}

describe('experiments on webgpu (SwiftShader)', { skip }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gowide-webgpu-runs-'));
    cpSync(FIXTURES, dir, { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const file of readdirSync(FIXTURES).filter((name) => name.endsWith('.gowide.json'))) {
    it(`gowide run ${file} --backend webgpu: all four arms, the accuracies of wasm`, async () => {
      const gpu = await gowideRun(join(dir, file), 'webgpu');
      const cpu = await gowideRun(join(dir, file), 'wasm');
      assert.equal(gpu.summary.backend, 'webgpu');
      assertAllArms(gpu.summary, 'webgpu');
      assertAllArms(cpu.summary, 'wasm');
      const rows = ARMS.map((arm) => [arm, gpu.summary.arms![arm]!.accuracy.mean, cpu.summary.arms![arm]!.accuracy.mean] as const);
      const timing = (r: { seconds: number; cpu?: number }) => `${r.seconds.toFixed(1)} s (CPU ${r.cpu?.toFixed(1) ?? '?'} s)`;
      console.log(`${file}: webgpu ${timing(gpu)}, wasm ${timing(cpu)}; accuracy webgpu / wasm: ${rows.map(([arm, g, c]) => `${arm} ${g.toFixed(4)} / ${c.toFixed(4)}`).join(', ')}`);
      for (const [arm, g, c] of rows) {
        assert.ok(Math.abs(g - c) <= FLIPPED_EXAMPLES / TEST_EXAMPLES + 1e-9, `${file} ${arm}: webgpu ${g} against wasm ${c}`);
      }
    });
  }

  it('the sidecar, switched to webgpu over JSON-RPC, runs an experiment to done', async () => {
    const sidecar = startBuiltSidecar(swiftshaderEnv());
    try {
      await sidecar.initialize();
      const selected = await sidecar.connection.sendRequest(SelectBackendRequest, { backend: 'webgpu' });
      assert.equal(selected.active, 'webgpu');
      const started = await sidecar.connection.sendRequest(StartStageRequest, {
        experimentPath: join(dir, 'mlp.gowide.json'),
        stage: 'all',
        runsDir: join(dir, 'rpc-runs'),
        wait: true,
      });
      assert.ok(started.summary, 'a waited run returns its summary');
      assertAllArms(started.summary as CliSummary, 'sidecar on webgpu');
    } finally {
      await sidecar.stop();
    }
  });
});
