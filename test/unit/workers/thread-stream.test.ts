// ThreadStream: the bytes of an RFC 6062 data connection between two relay workers, here over
// a real MessageChannel (the same structured clone and transfer as between threads).
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { CREDIT_WINDOW, ThreadStream, type StreamSignal } from '../../../src/workers/thread-stream.js';

function pair(): { a: ThreadStream; b: ThreadStream; close: () => void } {
  const { port1, port2 } = new MessageChannel();
  const transfer = (m: StreamSignal) => (m.kind === 'chunk' ? [m.data.buffer as ArrayBuffer] : []);
  const a = new ThreadStream((m) => port1.postMessage(m, transfer(m)));
  const b = new ThreadStream((m) => port2.postMessage(m, transfer(m)));
  port1.on('message', (m: StreamSignal) => a.receive(m));
  port2.on('message', (m: StreamSignal) => b.receive(m));
  return { a, b, close: () => (port1.close(), port2.close()) };
}

const pattern = (bytes: number) => Buffer.from(Array.from({ length: bytes }, (_, i) => (i * 13) & 0xff));

describe('ThreadStream', () => {
  it('stops the writer at the credit window while the reader reads nothing, then delivers every byte in order', async () => {
    const { a, b, close } = pair();
    const sent = pattern(4 * CREDIT_WINDOW);
    let accepted = 0;
    // Writes as a pipe would: one 16 KiB chunk at a time, waiting for drain when told to.
    const writing = (async () => {
      for (let at = 0; at < sent.length; at += 16 * 1024) {
        accepted = at + 16 * 1024;
        if (!a.write(sent.subarray(at, at + 16 * 1024))) await new Promise((r) => a.once('drain', r));
      }
      a.end();
    })();
    await new Promise((r) => setTimeout(r, 200));
    // Nobody reads b: the writer is held near the window (plus what b's own buffer took).
    expect(accepted).toBeLessThan(2 * CREDIT_WINDOW);

    const received: Buffer[] = [];
    b.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise((r) => b.once('end', r));
    await writing;
    expect(Buffer.concat(received).equals(sent)).toBe(true);
    close();
  });

  it('closes the other end when one is destroyed', async () => {
    const { a, b, close } = pair();
    a.destroy();
    await new Promise((r) => b.once('close', r));
    expect(b.destroyed).toBe(true);
    close();
  });
});
