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

const TO_WEBVIEW_TYPES: readonly ToWebviewMessage['type'][] = [
  'engine', 'run', 'metrics', 'reset', 'netSizes', 'progress', 'runs', 'finetuneSettings', 'notice',
];

function isToWebviewMessage(value: unknown): value is ToWebviewMessage {
  return typeof value === 'object' && value !== null && TO_WEBVIEW_TYPES.includes((value as { type: ToWebviewMessage['type'] }).type);
}
