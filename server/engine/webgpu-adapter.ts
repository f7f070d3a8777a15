// What a WebGPU adapter is (GpuAdapterInfo from Dawn's GPUAdapter) and the policy on which adapters the
// engine may pick by itself: never a software one, which trains slower than wasm on the same CPU.
import { formatBytes } from '../experiment/estimate';
import { GPU_TRAINING_LIMITS, type BackendProbe, type GpuAdapterInfo, type GpuAdapterKind, type GpuTrainingLimit } from '../protocol';

/** CPU implementations of Vulkan (and D3D's WARP) that may not set isFallbackAdapter. */
const SOFTWARE_PATTERN = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/i;

/** Vendors whose GPUs are all on the CPU's die; Dawn's info does not carry the adapter type. */
const INTEGRATED_VENDORS = new Set(['apple', 'qualcomm', 'arm', 'img-tec', 'imagination', 'broadcom', 'mesa']);

export function describeAdapter(adapter: GPUAdapter): GpuAdapterInfo {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  // The standard moved isFallbackAdapter from GPUAdapter to its info; Dawn versions differ.
  const fallback = Boolean(info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter);
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const device = (info.device ?? '').replace(/-+$/, '');
  const driver = info.description ?? '';
  const limits = Object.fromEntries(
    GPU_TRAINING_LIMITS.map((name) => [name, Number(adapter.limits[name])]),
  ) as Record<GpuTrainingLimit, number>;
  const name = [...new Set([vendor, architecture, device].filter((part) => part))].join(' ') || driver || 'WebGPU adapter';
  return { name, kind: adapterKind(fallback, vendor, [vendor, architecture, device, driver].join(' ')), vendor, architecture, device, driver, fallback, limits };
}

function adapterKind(fallback: boolean, vendor: string, text: string): GpuAdapterKind {
  if (fallback || SOFTWARE_PATTERN.test(text)) return 'software';
  const lower = vendor.toLowerCase();
  if (lower === 'nvidia') return 'discrete';
  // Intel's Arc cards report the Xe-HPG architecture; its other GPUs are integrated.
  if (lower === 'intel') return /hpg|arc/i.test(text) ? 'discrete' : 'integrated';
  if (INTEGRATED_VENDORS.has(lower)) return 'integrated';
  return 'unknown';
}

/** Why the engine does not pick this adapter by itself, or undefined when it may. */
export function automaticChoiceRefusal(adapter: GpuAdapterInfo): string | undefined {
  if (adapter.kind !== 'software') return undefined;
  return (
    `only a software adapter (${adapter.driver || adapter.name}, ${adapter.vendor || 'unknown vendor'}) was found: it runs ` +
    'on the CPU and trains slower than wasm, so it is not chosen automatically; name the backend ' +
    '(--backend webgpu, or the gowide.backend setting) to use it anyway'
  );
}

/** Why a backend that trains is not picked automatically (webgpu on a software adapter), or undefined. */
export function heldBackReason(probe: BackendProbe): string | undefined {
  return probe.ok && probe.adapter ? automaticChoiceRefusal(probe.adapter) : undefined;
}

/** One line for a person: "google swiftshader (software), SwiftShader driver 5.0.0". */
export function adapterSummary(adapter: GpuAdapterInfo): string {
  return `${adapter.name} (${adapter.kind})${adapter.driver ? `, ${adapter.driver}` : ''}`;
}

/** "maxBufferSize 1.0 GiB, ..., maxComputeInvocationsPerWorkgroup 256". */
export function adapterLimitsSummary(adapter: GpuAdapterInfo): string {
  return GPU_TRAINING_LIMITS.map((name) => {
    const value = adapter.limits[name];
    return `${name} ${/Size$/.test(name) ? formatBytes(value) : value}`;
  }).join(', ');
}

/** The adapter the webgpu probe found, used or not. */
export function probedAdapter(info: { backends: BackendProbe[] }): GpuAdapterInfo | undefined {
  return info.backends.find((probe) => probe.name === 'webgpu')?.adapter;
}

/** The adapter's facts as label and value, for the CLI's text and the extension's engine report. */
export function adapterFacts(adapter: GpuAdapterInfo): Array<[label: string, value: string]> {
  const kindSource = adapter.fallback
    ? 'Dawn marks it a fallback adapter'
    : adapter.kind === 'software'
      ? 'by its name'
      : adapter.kind === 'unknown'
        ? 'Dawn does not report the adapter type'
        : 'inferred from the vendor';
  return [
    ['Name', adapter.name],
    ['Kind', `${adapter.kind} (${kindSource})`],
    ['Vendor', adapter.vendor || '-'],
    ['Architecture', adapter.architecture || '-'],
    ['Driver', adapter.driver || '-'],
    ['Limits', adapterLimitsSummary(adapter)],
  ];
}
