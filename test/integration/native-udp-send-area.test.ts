// The native UDP addon's send area (native/udp-io.c, src/net/native-udp/io.ts): datagrams JS
// made during a batch (DTLS records, decrypted payloads) are copied there and leave in the
// batch's sendmmsg, in order with the receive area's parts, through a full queue and a full
// area; what cannot be queued is refused, and what was queued before it has left by then.
// Real sockets on loopback throughout.
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeUdpIo } from '../../src/net/native-udp/addon.js';
import type { NativeUdpIo, UdpIoAddon } from '../../src/net/native-udp/io.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { openPeerUntilCleanup } from '../support/turn-client.js';
import { ROOT } from '../support/turnpike-process.js';

const cleanups = cleanupAfterEach();

const HOST = '127.0.0.1';
type Peer = Awaited<ReturnType<typeof openPeerUntilCleanup>>;

/** Waits until `done()` (bounded). */
async function until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (let waited = 0; !done(); waited += 10) {
    if (waited > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A datagram whose bytes say which it is. */
const numbered = (i: number, length: number) => Buffer.alloc(length, i & 0xff).fill(`#${i}#`, 0, Math.min(length, 8));

/** A native unconnected socket whose handler runs `onBatch` for the first datagram it gets. */
function socketThatSends(io: NativeUdpIo, onBatch: (id: number, data: Buffer, offset: number, length: number) => void): number {
  let done = false;
  const id = io.openUnconnected({ family: 4, address: HOST, port: 0 }, (data, offset, length) => {
    if (done) return;
    done = true;
    onBatch(id, data, offset, length);
  });
  cleanups.push(() => io.close(id));
  return id;
}

/** A datagram to the native socket, so that its handler runs within a batch. */
function trigger(io: NativeUdpIo, id: number, from: Peer): void {
  from.socket.send(Buffer.from('go'), io.localPort(id), HOST);
}

describe.runIf(process.platform === 'linux')('the native send area', () => {
  it('sends what a batch queued for a socket that the same batch then closes (a DTLS alert before its socket goes)', async () => {
    const io = nativeUdpIo()!;
    const peer = await openPeerUntilCleanup(cleanups, HOST);
    const parting = numbered(1, 40);
    let closedAfterQueueing = false;
    // A second socket, as a client's own socket is: the last words are queued on it, then it closes.
    const own = io.openUnconnected({ family: 4, address: HOST, port: 0 }, () => {});
    const id = socketThatSends(io, () => {
      closedAfterQueueing = io.queueCopy(own, parting, 0, parting.length, peer.address.port, HOST);
      io.close(own);
    });
    trigger(io, id, peer);
    await until(() => closedAfterQueueing && peer.received.length >= 1, 'the parting datagram at the peer');
    expect(peer.received[0]!.data).toEqual(parting);
  });

  it('sends copies made during a batch in order with receive-area parts, through a full queue and a full area, byte for byte', async () => {
    const io = nativeUdpIo()!;
    // Eight peers, so that no socket's receive buffer (the kernel's default) overflows.
    const peers = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(() => openPeerUntilCleanup(cleanups, HOST)));
    const count = 160; // more than the queue holds (64)
    // Every fifth is 24,000 bytes: the first 11 of them, before the queue is full, are more than the send area (256 KiB).
    const size = (i: number) => (i % 5 === 0 ? 24_000 : 50 + i);
    const expected: Buffer[][] = peers.map(() => []);
    let queued = 0;
    const id = socketThatSends(io, (id, data, offset, length) => {
      for (let i = 0; i < count; i++) {
        const peer = peers[i % peers.length]!;
        // Every seventh is the received datagram itself, a part of the receive area.
        if (i % 7 === 0 && io.queueSend(id, data, offset, length, 0, peer.address.port, HOST)) {
          expected[i % peers.length]!.push(Buffer.from(data.subarray(offset, offset + length)));
          queued++;
          continue;
        }
        // Some from within a larger Buffer.
        const datagram = numbered(i, size(i));
        const within = Buffer.concat([Buffer.from('before'), datagram, Buffer.from('after')]);
        if (i % 3 === 0 ? io.queueCopy(id, within, 6, datagram.length, peer.address.port, HOST) : io.queueCopy(id, datagram, 0, datagram.length, peer.address.port, HOST)) queued++;
        expected[i % peers.length]!.push(datagram);
      }
    });
    const before = io.counters();
    trigger(io, id, peers[0]!);
    await until(() => queued > 0 && peers.every((peer, p) => peer.received.length >= expected[p]!.length), 'every datagram at its peer');
    expect(queued).toBe(count);
    peers.forEach((peer, p) => {
      const got = peer.received.map((d) => d.data);
      expect(got.length, `peer ${p}`).toBe(expected[p]!.length);
      got.forEach((data, i) => expect(data.equals(expected[p]![i]!), `peer ${p}, datagram ${i}`).toBe(true));
    });
    const after = io.counters();
    expect(after.sent - before.sent).toBe(count);
    expect(after.sendErrors - before.sendErrors).toBe(0);
  });

  it('refuses a copy larger than the send area, after sending what was queued, so a send now keeps the order', async () => {
    const io = nativeUdpIo()!;
    const peer = await openPeerUntilCleanup(cleanups, HOST);
    const answers: boolean[] = [];
    const id = socketThatSends(io, (id) => {
      answers.push(io.queueCopy(id, Buffer.from('first'), 0, 5, peer.address.port, HOST));
      answers.push(io.queueCopy(id, Buffer.alloc(300 * 1024), 0, 300 * 1024, peer.address.port, HOST));
      expect(io.sendNow(id, Buffer.from('second'), 0, 6, peer.address.port, HOST)).toBe(0);
      answers.push(io.queueCopy(id, Buffer.from('third'), 0, 5, peer.address.port, HOST));
    });
    trigger(io, id, peer);
    await until(() => peer.received.length >= 3, 'three datagrams');
    expect(answers).toEqual([true, false, true]);
    expect(peer.received.map((d) => d.data.toString())).toEqual(['first', 'second', 'third']);
  });

  it('queues no copy outside a batch or to an IPv6 destination', async () => {
    const io = nativeUdpIo()!;
    const peer = await openPeerUntilCleanup(cleanups, HOST);
    let toIpv6: boolean | undefined;
    const id = socketThatSends(io, (id) => {
      toIpv6 = io.queueCopy(id, Buffer.from('to ::1'), 0, 6, peer.address.port, '::1');
    });
    expect(io.queueCopy(id, Buffer.from('not now'), 0, 7, peer.address.port, HOST)).toBe(false);
    trigger(io, id, peer);
    await until(() => toIpv6 !== undefined, 'the batch');
    expect(toIpv6).toBe(false);
  });

  it('sends a queued range that ends where the send area ends, and drops one past it', async () => {
    const io = nativeUdpIo()!;
    const peer = await openPeerUntilCleanup(cleanups, HOST);
    const end = io.slab.length;
    // 64 slots of 64 KiB that recvmmsg fills, then the send area.
    expect(end).toBeGreaterThan(64 * 65536);
    const before = io.counters();
    const id = socketThatSends(io, (id) => {
      io.slab.write('tail!', end - 5);
      io.queueSend(id, io.slab, end - 5, 5, 0, peer.address.port, HOST);
      io.queueSend(id, io.slab, end - 4, 5, 0, peer.address.port, HOST);
    });
    trigger(io, id, peer);
    expect((await peer.next(5000)).data.toString()).toBe('tail!');
    await until(() => io.counters().sendErrors - before.sendErrors === 1, 'the one past the end counted as a failed send');
    expect(peer.received).toEqual([]);
  });

  it('flush refuses wrong arguments with a TypeError', () => {
    nativeUdpIo(); // loaded (and started) on this thread: the same module is returned below
    const addon = createRequire(import.meta.url)(path.join(ROOT, 'native/build/udp-io.node')) as UdpIoAddon;
    expect(() => (addon.flush as (...args: unknown[]) => void)()).toThrow(TypeError);
    expect(() => (addon.flush as (...args: unknown[]) => void)('all')).toThrow(TypeError);
    expect(() => addon.flush(0)).not.toThrow();
  });
});
