// WebGPU without a GPU: Debian's chromium package ships SwiftShader, a Vulkan driver that runs on the
// CPU. Naming its ICD in VK_ICD_FILENAMES before Dawn starts gives Dawn a (software) adapter, so the
// webgpu backend's tests run on any machine with chromium and libvulkan1 installed.
import type { TestContext } from 'node:test';
import { existsSync } from 'node:fs';

export const SWIFTSHADER_ICD = process.env.GOWIDE_SWIFTSHADER_ICD ?? '/usr/lib/chromium/vk_swiftshader_icd.json';

/** GOWIDE_REQUIRE_WEBGPU=1 (CI, where .ci/run installs chromium and libvulkan1): a missing SwiftShader fails instead of skipping. */
export const requireWebgpu = process.env.GOWIDE_REQUIRE_WEBGPU === '1';

export function swiftshaderFound(): boolean {
  return existsSync(SWIFTSHADER_ICD);
}

/** The environment a child process needs to see SwiftShader as its only Vulkan driver. */
export function swiftshaderEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, VK_ICD_FILENAMES: SWIFTSHADER_ICD };
}

/** Points this process's Vulkan loader at SwiftShader (before Dawn starts); false when it is missing. */
export function useSwiftshaderHere(): boolean {
  if (!swiftshaderFound()) return false;
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return true;
}

/**
 * For a test that needs SwiftShader: true when it is there. Otherwise skips the test with the reason,
 * or throws under GOWIDE_REQUIRE_WEBGPU=1.
 */
export function swiftshaderOrSkip(t: TestContext): boolean {
  if (swiftshaderFound()) return true;
  const why = `SwiftShader's Vulkan driver is missing (${SWIFTSHADER_ICD}): apt-get install chromium libvulkan1`;
  if (requireWebgpu) throw new Error(why);
  t.skip(why);
  return false;
}
