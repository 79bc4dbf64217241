// Relayed data written to a natively accepted TCP client by native/tcp-accept.c
// (src/net/native-frame-writer.ts): real sockets on 127.0.0.1, the real addon. The frames must
// reach the client as socket.write would have written them, whole and in order, including
// when the kernel takes only part of one and the rest goes through Node's queue.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeTcpAccept } from '../../src/net/native-tcp-accept.js';
import type { NativeFrameWriter } from '../../src/net/native-frame-writer.js';
import type { OnreadReads } from '../../src/net/stream-reads.js';

const native = nativeTcpAccept();
const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

interface Accepted {
  readonly client: net.Socket;
  readonly server: net.Socket;
  readonly reads: OnreadReads;
  readonly frames: NativeFrameWriter | undefined;
}

/** A native listener on 127.0.0.1; accept() connects a client to it and gives both ends. */
function listen(): { accept(): Promise<Accepted> } {
  if (!('accept' in native)) throw new Error(native.unavailable);
  const waiting: ((end: Omit<Accepted, 'client'>) => void)[] = [];
  const listening = native.accept.listen(4, '127.0.0.1', 0, false, (server, reads, frames) => {
    closers.push(() => server.destroy());
    waiting.shift()!({ server, reads, frames });
  });
  closers.push(() => listening.close());
  return {
    accept: async () => {
      const handedOver = new Promise<Omit<Accepted, 'client'>>((resolve) => waiting.push(resolve));
      const client = net.connect(listening.port, '127.0.0.1');
      closers.push(() => client.destroy());
      return { client, ...(await handedOver) };
    },
  };
}

const accepted = (): Promise<Accepted> => listen().accept();

/** Reads from `client` until `bytes` have come (bounded by the test's timeout); the socket is destroyed after. */
async function readBytes(client: net.Socket, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  for await (const chunk of client) {
    chunks.push(chunk as Buffer);
    have += (chunk as Buffer).length;
    if (have >= bytes) break;
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}

const frameOf = (channel: number, payload: Buffer): Buffer => {
  const frame = Buffer.alloc(4 + ((payload.length + 3) & ~3));
  frame.writeUInt16BE(channel, 0);
  frame.writeUInt16BE(payload.length, 2);
  payload.copy(frame, 4);
  return frame;
};

describe.skipIf(!('accept' in native))('relayed data to a natively accepted TCP client', () => {
  it('goes out as padded ChannelData frames written by the addon, not through socket.write', async () => {
    const { client, server, frames } = await accepted();
    expect(frames).toBeDefined();
    // 1 to 17 bytes (every padding), each from an offset inside a larger buffer, as from the UDP receive area.
    const area = Buffer.alloc(64);
    const expected: Buffer[] = [];
    for (let length = 1; length <= 17; length++) {
      area.fill(0xee);
      const payload = Buffer.alloc(length, length);
      payload.copy(area, 5);
      frames!.writeChannelData(0x4000 + length, area, 5, length);
      expected.push(frameOf(0x4000 + length, payload));
    }
    const all = Buffer.concat(expected);
    expect(await readBytes(client, all.length)).toEqual(all);
    expect(server.bytesWritten).toBe(0); // Node's Writable carried none of it
  });

  it('keeps frames whole and in order when the kernel takes only part of one and Node queues the rest', async () => {
    const { client, server, frames } = await accepted();
    client.pause(); // the client stops reading: the kernel's buffers fill
    const payload = Buffer.alloc(60_001); // large: the kernel takes part of a frame rather than none
    let count = 0;
    // Until Node holds a queue (a frame went only partly, or not at all), then as many again.
    for (; count < 10_000 && server.writableLength === 0; count++) {
      payload.writeUInt32BE(count, 0);
      frames!.writeChannelData(0x4001, payload, 0, payload.length);
    }
    expect(server.writableLength).toBeGreaterThan(0);
    const queuedAt = count;
    for (; count < 2 * queuedAt; count++) {
      payload.writeUInt32BE(count, 0);
      frames!.writeChannelData(0x4001, payload, 0, payload.length);
    }
    client.resume();
    const span = 4 + 60_004;
    const stream = await readBytes(client, count * span);
    for (let i = 0; i < count; i++) {
      const at = i * span;
      expect([stream.readUInt16BE(at), stream.readUInt16BE(at + 2), stream.readUInt32BE(at + 4)]).toEqual([0x4001, 60_001, i]);
    }
  });

  it('never writes to the fd of a destroyed socket, whose number the next connection may have', async () => {
    const listener = listen();
    const first = await listener.accept();
    first.server.on('error', () => {}); // Node's own answer to a write after destroy
    first.server.destroy(); // its fd is closed now: the next socket made in this process may get the number
    const next = await listener.accept();
    const atServer: Buffer[] = [];
    next.reads.onData((data) => atServer.push(data));
    first.frames!.writeChannelData(0x4000, Buffer.alloc(8, 1), 0, 8); // must reach neither end of `next`
    // What each end of `next` gets first is what was written to it afterwards.
    next.client.write(Buffer.from('marker'));
    for (let i = 0; i < 100 && Buffer.concat(atServer).length < 6; i++) await new Promise((r) => setTimeout(r, 10));
    expect(Buffer.concat(atServer).subarray(0, 6).toString()).toBe('marker');
    next.frames!.writeChannelData(0x4002, Buffer.alloc(4, 2), 0, 4);
    expect(await readBytes(next.client, 8)).toEqual(frameOf(0x4002, Buffer.alloc(4, 2)));
  });
});
