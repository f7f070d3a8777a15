// The webview's one boundary to the extension host: acquireVsCodeApi (called once), typed with the
// shared protocol, and a validated stream of host messages.
import type { FromWebviewMessage, ToWebviewMessage } from '../../server/protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export interface Host<S> {
  post(message: FromWebviewMessage): void;
  state(): Partial<S>;
  saveState(state: S): void;
}

export function connectHost<S>(onMessage: (message: ToWebviewMessage) => void): Host<S> {
  const api = acquireVsCodeApi();
  window.addEventListener('message', (event: MessageEvent) => {
    if (isToWebviewMessage(event.data)) onMessage(event.data);
  });
  return {
    post: (message) => api.postMessage(message),
    state: () => {
      const saved = api.getState();
      return saved && typeof saved === 'object' ? (saved as Partial<S>) : {};
    },
    saveState: (state) => api.setState(state),
  };
}

// Keyed by every message type, so the compiler refuses a list that misses one.
const TO_WEBVIEW_TYPES: Record<ToWebviewMessage['type'], true> = {
  engine: true, run: true, snapshot: true, metrics: true, reset: true, netSizes: true, sweep: true, progress: true, runs: true, finetuneSettings: true, notice: true,
};

function isToWebviewMessage(value: unknown): value is ToWebviewMessage {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  return typeof type === 'string' && Object.hasOwn(TO_WEBVIEW_TYPES, type);
}
