// Errors the engine raises; the sidecar and the CLI turn them into messages for the user.
import type { BackendName, EngineProbeReport } from '../protocol';

/** A backend the user named could not be used. `info` holds every probe, so callers can show them all. */
export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: BackendName,
    readonly reason: string,
    readonly info?: EngineProbeReport,
  ) {
    super(`backend "${backend}" is not available: ${reason}`);
    this.name = 'BackendUnavailableError';
  }
}

/** No backend at all could run a training step. */
export class NoBackendError extends Error {
  constructor(readonly info: EngineProbeReport) {
    super(
      'no TF.js backend could run a training step:\n' +
        info.backends.map((b) => `  ${b.name}: ${b.reason ?? 'ok'}`).join('\n'),
    );
    this.name = 'NoBackendError';
  }
}

/** The caller aborted while the engine was probing. */
export class EngineCancelledError extends Error {
  constructor() {
    super('engine probing was cancelled');
    this.name = 'EngineCancelledError';
  }
}

/** Why a backend did not load, already phrased for the user. Thrown by the loaders. */
export class BackendLoadError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'BackendLoadError';
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
