// In sidecar mode stdout carries the protocol and nothing else. Anything else that writes there
// (console.log in a library, a stray process.stdout.write) is sent to stderr and to the log instead.
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import type { LogLevel } from '../protocol';

export type LogSink = (level: LogLevel, message: string) => void;

/**
 * Takes stdout for the protocol: returns a stream that writes to the real stdout, and points
 * process.stdout.write and the console methods elsewhere.
 */
export function takeStdoutForProtocol(log: LogSink): Writable {
  const realWrite = process.stdout.write.bind(process.stdout);
  const protocolOut = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      realWrite(chunk, (error?: Error | null) => callback(error ?? null));
    },
  });
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    log('info', `stdout: ${typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')}`.trimEnd());
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;

  const format = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' ');
  console.log = (...args: unknown[]) => log('info', format(args));
  console.info = (...args: unknown[]) => log('info', format(args));
  console.debug = (...args: unknown[]) => log('debug', format(args));
  console.warn = (...args: unknown[]) => log('warn', format(args));
  console.error = (...args: unknown[]) => log('error', format(args));
  console.trace = (...args: unknown[]) => log('debug', `${format(args)}\n${new Error().stack ?? ''}`);
  return protocolOut;
}
