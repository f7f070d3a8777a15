// The framing reader on a real stream, fed byte by byte and with garbage between messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { Message } from 'vscode-jsonrpc/node';
import { FramingMessageReader, type BadInput } from '../../server/rpc/framing-reader';
import { frame } from './sidecar-process';

function readerOn(stream: PassThrough) {
  const messages: Message[] = [];
  const bad: BadInput[] = [];
  const reader = new FramingMessageReader(stream, (b) => bad.push(b));
  reader.listen((m) => messages.push(m));
  return { messages, bad };
}

const request = (id: number) => ({ jsonrpc: '2.0', id, method: 'gowide/engineInfo', params: { text: 'é ✓ Content-Length: 3' } });

test('messages split into single bytes are reassembled, multi-byte UTF-8 included', () => {
  const stream = new PassThrough();
  const { messages, bad } = readerOn(stream);
  const bytes = Buffer.concat([frame(request(1)), frame(request(2))]);
  for (const byte of bytes) stream.write(Buffer.from([byte]));
  assert.deepEqual(messages, [request(1), request(2)]);
  assert.deepEqual(bad, []);
});

test('Content-Type headers are accepted, garbage split across chunks is skipped', () => {
  const stream = new PassThrough();
  const { messages, bad } = readerOn(stream);
  const body = JSON.stringify(request(3));
  stream.write(`Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  stream.write('noise noise Conte');
  stream.write(Buffer.concat([Buffer.from('nt-Length: 5\r\n\r\n{bad}'), frame(request(4))]));
  assert.deepEqual(messages, [request(3), request(4)]);
  assert.deepEqual(
    bad.map((b) => b.kind),
    ['header', 'json'],
  );
});

test('a body cut short by the next header is dropped without losing the next message', () => {
  const stream = new PassThrough();
  const { messages, bad } = readerOn(stream);
  stream.write('Content-Length: 1000000\r\n\r\n{"jsonrpc":"2.0","id":');
  const next = frame(request(5));
  stream.write(next.subarray(0, 10));
  stream.write(next.subarray(10));
  assert.deepEqual(messages, [request(5)]);
  assert.deepEqual(
    bad.map((b) => b.kind),
    ['truncated'],
  );
});
