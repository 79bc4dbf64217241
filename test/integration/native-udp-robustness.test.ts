// Native batched UDP I/O (native/udp-io.c) against what a network and untrusted senders do:
// ICMP errors on a client's own socket, sockets closed twice, and random datagrams at both
// kinds of native socket. Real sockets on loopback throughout.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeUdpIo } from '../../src/net/native-udp/addon.js';
import { bindRelaySocket } from '../../src/net/relay-socket.js';
import { UdpRelays } from '../../src/net/udp-relays.js';
import { channelDataHeader } from '../../src/stun/index.js';
import { silentLogger, type Logger } from '../../src/log/logger-interface.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { freePortRange, freeUdpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { ALICE } from '../support/server-options.js';
import { UdpTestClient, openPeerUntilCleanup } from '../support/turn-client.js';

const cleanups = cleanupAfterEach();
afterEach(() => stopAllProcesses());

const CHANNEL = 0x4001;
const HOST = '127.0.0.1';

/** Waits until `done()` (bounded). */
async function until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (let waited = 0; !done(); waited += 10) {
    if (waited > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function boundSocket(port: number): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, HOST, () => resolve());
  });
  cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
  return socket;
}

describe.runIf(process.platform === 'linux')('native UDP I/O robustness', () => {
  it('reads every source address whole when IPv4 and IPv6 datagrams take turns in the same receive slots', async () => {
    const io = nativeUdpIo()!;
    const seen: string[] = [];
    const record = (_data: Buffer, _offset: number, _length: number, address: string, port: number) => void seen.push(`${address} ${port}`);
    const v4 = io.openUnconnected({ family: 4, address: HOST, port: 0 }, record);
    const v6 = io.openUnconnected({ family: 6, address: '::1', port: 0 }, record);
    cleanups.push(() => { io.close(v4); io.close(v6); });
    const from4 = await boundSocket(0);
    const from6 = createSocket('udp6');
    await new Promise<void>((resolve) => from6.bind(0, '::1', () => resolve()));
    cleanups.push(() => new Promise<void>((r) => from6.close(() => r())));
    const expected: string[] = [];
    // One datagram per turn, so each lands in the first slot: an IPv6 source (28 bytes) right
    // after an IPv4 one (16) is read whole only if the slot's address length was set back.
    for (let i = 0; i < 4; i++) {
      for (const [socket, address, id] of [[from4, HOST, v4], [from6, '::1', v6]] as const) {
        socket.send(Buffer.from(`turn ${i}`), io.localPort(id), address);
        expected.push(`${address} ${socket.address().port}`);
        await until(() => seen.length === expected.length, `datagram ${expected.length}`);
      }
    }
    expect(seen).toEqual(expected);
  });

  it("keeps reading a client's own socket after an ICMP port unreachable from the client", async () => {
    const errors: string[] = [];
    const logger: Logger = { ...silentLogger, error: (m) => void errors.push(m) };
    const server = await startInProcessServer(cleanups, {}, logger);
    const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
    const peer = await openPeerUntilCleanup(cleanups);
    const relay = await client.allocateRelay();
    await client.channelBind(CHANNEL, peer.address);
    const clientPort = client.socket.address().port;
    // The client's port closes for a moment: the server's next datagram to it draws an ICMP
    // port unreachable, an error on the client's own connected socket.
    await client.close();
    const icmpBefore = server.engine.counters.relayedToClientPackets;
    peer.socket.send(Buffer.from('to a closed port'), relay.port, relay.address);
    await until(() => server.engine.counters.relayedToClientPackets > icmpBefore, 'relayed to the closed port');
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The client is back on the same port: its ChannelData still reaches the peer.
    const again = await boundSocket(clientPort);
    again.send(Buffer.concat([channelDataHeader(CHANNEL, 5), Buffer.from('again')]), server.udpAddresses[0]!.port, server.udpAddresses[0]!.address);
    expect((await peer.next(3000)).data.toString()).toBe('again');
    expect(errors).toEqual([]);
  });

  it('a relay socket closed twice, or sent on after close, leaves alone the socket that took its number meanwhile', async () => {
    const io = nativeUdpIo()!;
    const relay = await bindRelaySocket(io, HOST, await freeUdpPort(HOST), { onError: () => {} });
    await new Promise<void>((closed) => relay!.close(closed));
    await new Promise((resolve) => setTimeout(resolve, 20)); // its number is free once libuv has closed its handle
    // Socket numbers are reused once free: within a table's worth of sockets one takes the relay's.
    const received = new Set<number>();
    const others: number[] = [];
    cleanups.push(() => others.forEach((id) => io.close(id)));
    for (let i = 0; i < 256; i++) others.push(io.openUnconnected({ family: 4, address: HOST, port: 0 }, () => void received.add(i)));
    const ports = others.map((id) => io.localPort(id));
    relay!.close();
    const sender = await boundSocket(0);
    ports.forEach((port) => sender.send(Buffer.from('hello'), port, HOST));
    await until(() => received.size === others.length, 'every other socket still reading', 5000);
    // Nor does a send after close leave from the socket that holds its number now.
    const peer = await openPeerUntilCleanup(cleanups, HOST);
    relay!.send(Buffer.from('after close'), 0, 11, peer.address.port, HOST);
    sender.send(Buffer.from('marker'), peer.address.port, HOST); // loopback delivers in order of sending
    expect((await peer.next()).data.toString()).toBe('marker');
  });

  it('forgets the relay socket of an EVEN-PORT allocation whose next port was taken, so shutdown does not close it again', async () => {
    const base = await freePortRange(HOST, 3);
    const even = base % 2 === 0 ? base : base + 1;
    await boundSocket(even + 1); // someone else holds the port to reserve
    const relays = new UdpRelays({ relayIps: [HOST], minPort: even, maxPort: even + 1, externalIps: new Map() }, silentLogger);
    cleanups.push(() => relays.close());
    const result = await relays.open({ family: 4, evenPort: true, reserveNext: true }, () => {});
    expect(result).toEqual({ ok: false, reason: 'exhausted' });
    expect(relays.sockets.size).toBe(0);
  });

  it('fails to bind with the error code dgram gives for the same errno', async () => {
    const io = nativeUdpIo()!;
    const taken = await boundSocket(0);
    const bindError = (address: string, port: number, family: 4 | 6) => {
      try {
        io.close(io.openUnconnected({ family, address, port }, () => {}));
        return 'bound';
      } catch (error) {
        return (error as NodeJS.ErrnoException).code;
      }
    };
    expect(bindError(HOST, taken.address().port, 4)).toBe('EADDRINUSE');
    expect(bindError('fe80::1', 0, 6)).toBe('EINVAL'); // link-local without a scope: dgram says EINVAL too
  });

  it('drops and counts queued sends outside the receive area, on a closed socket or to no address; refuses a bad immediate send', async () => {
    const io = nativeUdpIo()!;
    const peer = await openPeerUntilCleanup(cleanups, HOST);
    const area = io.slab.length;
    let echoed = 0;
    let tried = 0;
    let closedId = -1;
    const id = io.openUnconnected({ family: 4, address: HOST, port: 0 }, (data, offset, length) => {
      const bad: [number, number][] = [[-1, 4], [0, -1], [area - 2, 4], [area, 1], [2 ** 31 - 1, 1], [0, 2 ** 31], [offset, area]];
      for (const [at, size] of bad) tried += io.queueSend(id, data, at, size, 0, peer.address.port, HOST) ? 1 : 0;
      tried += io.queueSend(id, data, offset, length, 0, 0, HOST) ? 1 : 0; // port 0: no destination
      tried += io.queueSend(closedId, data, offset, length, 0, peer.address.port, HOST) ? 1 : 0;
      // Refused at once with a TypeError, not a read past the Buffer.
      expect(() => io.sendNow(id, data, area - 1, 2, peer.address.port, HOST)).toThrow(TypeError);
      expect(() => io.sendNow(id, Buffer.alloc(4), -1, 2, peer.address.port, HOST)).toThrow(TypeError);
      if (io.queueSend(id, data, offset, length, 0, peer.address.port, HOST)) echoed++;
    });
    cleanups.push(() => io.close(id));
    closedId = io.openUnconnected({ family: 4, address: HOST, port: 0 }, () => {});
    io.close(closedId);
    const before = io.counters();
    peer.socket.send(Buffer.from('echo me'), io.localPort(id), HOST);
    expect((await peer.next(5000)).data.toString()).toBe('echo me');
    const after = io.counters();
    expect(echoed).toBe(1);
    expect(after.sendErrors - before.sendErrors).toBe(tried);
    expect(tried).toBe(9);
    expect(after.sent - before.sent).toBe(1);
    expect(peer.received).toEqual([]);
  });

  it('a socket its own handler closes mid-batch gets no more of the batch, and what it queued before the close leaves first', async () => {
    const io = nativeUdpIo()!;
    const peer = await openPeerUntilCleanup(cleanups, HOST);
    let calls = 0;
    const id = io.openUnconnected({ family: 4, address: HOST, port: 0 }, (data, offset, length) => {
      calls++;
      io.queueSend(id, data, offset, length, 0, peer.address.port, HOST);
      io.close(id);
      io.close(id); // twice, from inside the batch
    });
    const port = io.localPort(id);
    const before = io.counters();
    // Sent before the next poll: one recvmmsg reads them all into one batch.
    for (let i = 0; i < 5; i++) peer.socket.send(Buffer.from(`datagram ${i}`), port, HOST);
    await until(() => io.counters().received > before.received, 'the batch');
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    const after = io.counters();
    expect(calls).toBe(1);
    expect(after.received - before.received).toBe(5);
    // Sent while the socket was still open (a DTLS alert is queued this way just before its socket closes).
    expect(after.sent - before.sent).toBe(1);
    expect(after.sendErrors - before.sendErrors).toBe(0);
    await until(() => peer.received.length > 0, 'the queued datagram at the peer');
    expect(peer.received.map((d) => d.data.toString())).toEqual(['datagram 0']);
  });

  it('relays on after random datagrams at a relay socket and at a client\'s own socket, logging no error', async () => {
    const errors: string[] = [];
    const logger: Logger = { ...silentLogger, error: (m) => void errors.push(m), warn: (m) => void errors.push(m) };
    const io = nativeUdpIo()!;
    const server = await startInProcessServer(cleanups, {}, logger);
    const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
    cleanups.push(() => client.close());
    const peer = await openPeerUntilCleanup(cleanups);
    const relay = await client.allocateRelay();
    await client.channelBind(CHANNEL, peer.address);
    const random = seeded(0x7e57);
    const count = 150;
    for (let i = 0; i < 2 * count; i++) {
      const received = io.counters().received;
      const datagram = fuzzDatagram(random);
      if (i % 2 === 0) client.sendRaw(datagram);
      else peer.socket.send(datagram, relay.port, relay.address);
      // One at a time: the kernel drops what a full receive buffer cannot hold.
      await until(() => io.counters().received > received, `fuzz datagram ${i} of ${datagram.length} bytes`);
    }
    client.sendChannelData(CHANNEL, Buffer.from('still relaying'));
    await until(() => peer.received.some((d) => d.data.toString() === 'still relaying'), 'to the peer after the fuzz');
    peer.socket.send(Buffer.from('and back'), relay.port, relay.address);
    for (;;) if ((await client.nextDatagram(5000)).data.subarray(4).toString() === 'and back') break;
    expect(errors).toEqual([]);
  });
});

/** A deterministic generator of numbers in [0, 1) (xorshift32), so a failure can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

/** Random bytes of 0..65507, a third of them behind a ChannelData header (bound channel or not, any length field), some STUN-like. */
function fuzzDatagram(random: () => number): Buffer {
  const size = random() < 0.5 ? Math.floor(random() * 1500) : Math.floor(random() * 65_508);
  const datagram = Buffer.alloc(size);
  for (let i = 0; i < size; i++) datagram[i] = Math.floor(random() * 256);
  const kind = Math.floor(random() * 3);
  if (kind === 0 && size >= 4) {
    const channel = random() < 0.5 ? CHANNEL : 0x4000 + Math.floor(random() * 0x4000);
    const lengthField = random() < 0.5 ? size - 4 : Math.floor(random() * 0x10000);
    datagram.writeUInt16BE(channel, 0);
    datagram.writeUInt16BE(lengthField, 2);
  } else if (kind === 1 && size >= 20) {
    datagram[0] = 0x00;
    datagram[1] = 0x01;
    datagram.writeUInt16BE((size - 20) & 0xfffc, 2);
    datagram.writeUInt32BE(0x2112a442, 4);
  }
  return datagram;
}
