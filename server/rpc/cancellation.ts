// Bridges LSP cancellation tokens to the AbortSignals the engine and the training service take.
import type { CancellationToken } from 'vscode-jsonrpc/node';

export interface TokenSignal {
  signal: AbortSignal;
  dispose(): void;
}

export function abortSignalFor(token: CancellationToken): TokenSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) {
    controller.abort();
    return { signal: controller.signal, dispose: () => undefined };
  }
  const subscription = token.onCancellationRequested(() => controller.abort());
  return { signal: controller.signal, dispose: () => subscription.dispose() };
}

/**
 * Lets the connection process messages that arrived together with the current request, so a
 * $/cancelRequest sent right behind it is seen before long work starts.
 */
export function yieldToPendingMessages(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
