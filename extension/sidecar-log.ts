// Routes the sidecar's gowide/log lines to the matching level of the Output channel.
import type { LogParams } from '../server/protocol';

/** The part of vscode.LogOutputChannel that log lines need. */
export interface LevelledLog {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function writeSidecarLog(channel: LevelledLog, params: LogParams): void {
  const message = typeof params.message === 'string' ? params.message : String(params.message);
  switch (params.level) {
    case 'trace':
      return channel.trace(message);
    case 'debug':
      return channel.debug(message);
    case 'warn':
      return channel.warn(message);
    case 'error':
      return channel.error(message);
    case 'info':
    default:
      return channel.info(message);
  }
}
