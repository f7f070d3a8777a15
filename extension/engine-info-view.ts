// How the engine report is shown: status bar text and tooltip, quick pick rows, a markdown page.
// Pure, so it is unit-tested without VS Code.
import type { BackendName, EngineInfo } from '../server/protocol';
import { BACKEND_NAMES } from '../server/protocol';
import { adapterFacts, adapterSummary, heldBackReason, probedAdapter } from '../server/engine/webgpu-adapter';

export type SidecarState =
  | { kind: 'starting' }
  | { kind: 'running'; info?: EngineInfo }
  | { kind: 'restarting'; delayMs: number; attempt: number }
  | { kind: 'stopped'; reason: string };

export interface StatusBarView {
  text: string;
  tooltip: string;
  /** Command run on click. */
  command: string;
  /** Draw the item in the error colour. */
  error: boolean;
}

/** The setting value "auto" leaves the choice to the sidecar. */
export const BACKEND_CHOICES = ['auto', ...BACKEND_NAMES] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export function isBackendName(value: unknown): value is BackendName {
  return typeof value === 'string' && (BACKEND_NAMES as readonly string[]).includes(value);
}

export function statusBarView(state: SidecarState): StatusBarView {
  switch (state.kind) {
    case 'starting':
      return {
        text: '$(loading~spin) gowide: starting',
        tooltip: 'Starting the Go Wide training sidecar and probing TF.js backends…',
        command: 'gowide.showEngineInfo',
        error: false,
      };
    case 'running':
      if (!state.info) {
        return {
          text: '$(pulse) gowide',
          tooltip: 'The training sidecar is running; the engine report is not in yet.',
          command: 'gowide.showEngineInfo',
          error: false,
        };
      }
      return {
        text: `$(pulse) gowide: ${state.info.active}`,
        tooltip: engineTooltip(state.info),
        command: 'gowide.showEngineInfo',
        error: false,
      };
    case 'restarting':
      return {
        text: '$(sync~spin) gowide: restarting',
        tooltip: `The training sidecar stopped; restart ${state.attempt} in ${Math.round(state.delayMs / 1000)} s.`,
        command: 'gowide.restartSidecar',
        error: false,
      };
    case 'stopped':
      return {
        text: '$(error) gowide: stopped',
        tooltip: `${state.reason}\nClick to restart the training sidecar.`,
        command: 'gowide.restartSidecar',
        error: true,
      };
  }
}

export function engineTooltip(info: EngineInfo): string {
  const lines = [`Backend: ${info.active}${info.requested ? ` (requested ${info.requested})` : ''}`, `Device: ${info.device}`];
  const adapter = probedAdapter(info);
  if (adapter) lines.push(`WebGPU adapter: ${adapterSummary(adapter)}`);
  for (const probe of info.backends) {
    if (!probe.ok && probe.reason) lines.push(`${probe.name}: ${probe.reason}`);
  }
  lines.push('Click for the engine report.');
  return lines.join('\n');
}

export type BackendRowStatus = 'active' | 'available' | 'unavailable' | 'not probed';

export interface BackendRow {
  name: BackendName;
  status: BackendRowStatus;
  /** Why it is unavailable, or how long the probe took. */
  detail: string;
}

/** One row per known backend, in preference order, including those the sidecar did not probe. */
export function backendRows(info: EngineInfo): BackendRow[] {
  return BACKEND_NAMES.map((name) => {
    const probe = info.backends.find((p) => p.name === name);
    if (!probe) return { name, status: 'not probed', detail: 'Not tried: a better backend loaded first or it was not requested.' };
    const seconds = `probe took ${probe.seconds.toFixed(2)} s`;
    if (name === info.active) return { name, status: 'active', detail: `${info.device}; ${seconds}` };
    const held = heldBackReason(probe);
    if (probe.ok) return { name, status: 'available', detail: held ? `${seconds}; ${held}` : seconds };
    return { name, status: 'unavailable', detail: probe.reason ?? 'Did not load (no reason given).' };
  });
}

export function backendRowIcon(status: BackendRowStatus): string {
  switch (status) {
    case 'active':
      return '$(pass-filled)';
    case 'available':
      return '$(check)';
    case 'unavailable':
      return '$(error)';
    case 'not probed':
      return '$(circle-outline)';
  }
}

function escapeTableCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function engineInfoMarkdown(info: EngineInfo): string {
  const lines = [
    '# Go Wide engine',
    '',
    `- **Active backend:** ${info.active}${info.requested ? ` (requested: ${info.requested})` : ' (chosen automatically)'}`,
    `- **Device:** ${info.device}`,
    `- **TF.js:** ${info.tfjsVersion}`,
    `- **Node:** ${info.nodeVersion}`,
    '',
    '## Backends (best first)',
    '',
    '| Backend | Status | Details |',
    '| --- | --- | --- |',
    ...backendRows(info).map((row) => `| ${row.name} | ${row.status} | ${escapeTableCell(row.detail)} |`),
  ];
  const adapter = probedAdapter(info);
  if (adapter) {
    lines.push('', '## WebGPU adapter', '', ...adapterFacts(adapter).map(([label, value]) => `- **${label}:** ${value}`));
  }
  if (info.notes.length > 0) {
    lines.push('', '## Notes', '', ...info.notes.map((note) => `- ${note}`));
  }
  return lines.join('\n') + '\n';
}
