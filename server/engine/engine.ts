// Placeholder: the engine (backend choice and probes) is being written; see issue 2.
import type { BackendName, EngineInfo } from '../protocol';

export interface InitEngineOptions {
  /** Use this backend or fail with its reason; absent picks the best that loads. */
  backend?: BackendName;
  log?: (message: string) => void;
}

export async function initEngine(_options: InitEngineOptions = {}): Promise<EngineInfo> {
  throw new Error('engine not written yet');
}
