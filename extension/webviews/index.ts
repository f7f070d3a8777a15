// The webviews' entry points, wired to commands by extension/webview-commands.ts.
export { openWideningConfig } from './widening-panel';
export { openImitationMonitor } from './monitor-panel';
export { openCompareRuns } from './compare-panel';
export { registerLossView, LOSS_VIEW_ID, SHOW_RUN_COMMAND } from './loss-view';
export { registerWebviewSerializers } from './serializers';
export type { WebviewHostContext } from './host';
