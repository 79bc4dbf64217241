// Plain TCP connections run in C as TLS ones do (native/stream-conn.c, docs/native-tcp-accept.md),
// in process: the addon's counters prove it is the one that ran them (TURNPIKE_TCP=node, or a
// broken addon, fails these tests), and what a client sees is what net.Socket gave.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { TurnServer } from '../../src/server.js';
import { AttributeType, MessageBuilder, Method, StunClass, readXorAddress } from '../../src/stun/index.js';
import { nativeStreams } from '../../src/net/native-stream.js';
import type { NativeStreamSocket } from '../../src/net/native-stream.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { ALICE } from '../support/server-options.js';
import { StreamTestClient } from '../support/stream-client.js';
import { openPeerUntilCleanup } from '../support/turn-client.js';
import { runUclient, startPeer } from '../support/coturn-tools.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { expectChannelDataBothWays } from '../support/stream-channel-relay.js';
import { openTcpSockets, waitFor } from '../support/polling.js';
import { stopAllProcesses } from '../support/processes.js';

const cleanups = cleanupAfterEach();
afterEach(() => stopAllProcesses());
const linux = process.platform === 'linux';

function stats(): { adoptedPlain: number; queued: number; drained: number; live: number } {
  const native = nativeStreams();
  if (!('streams' in native)) throw new Error(`stream addon unavailable: ${native.unavailable}`);
  return { ...native.streams.stats, live: native.streams.liveConnections() };
}

const startServer = (): Promise<TurnServer> => startInProcessServer(cleanups, { noTcp: false });

async function connect(server: TurnServer): Promise<StreamTestClient> {
  const c = await StreamTestClient.open(server.streamAddresses[0]!, { secure: false, credentials: ALICE });
  cleanups.push(() => c.close());
  return c;
}

const binding = () => new MessageBuilder(Method.Binding, StunClass.Request).build();
const allClosed = (server: TurnServer) => () => server.listeners.streams.every((l) => l.connections === 0);
/** The server's side of its only open connection (the listener's set of sockets). */
const serverSocket = (server: TurnServer): NativeStreamSocket => [...(server.listeners.streams[0] as unknown as { sockets: Set<NativeStreamSocket> }).sockets][0]!;

/** A server and a client on its TCP port with a UDP allocation, channel 0x4000 bound to a peer of its own. */
async function channelToPeer() {
  const server = await startServer();
  const c = await connect(server);
  const relay = readXorAddress(await c.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17)), AttributeType.XorRelayedAddress)!;
  const peer = await openPeerUntilCleanup(cleanups);
  await c.request(Method.ChannelBind, (b) => b.addChannelNumber(0x4000).addXorAddress(AttributeType.XorPeerAddress, peer.address));
  return { server, c, relay, peer };
}

describe.runIf(linux)('plain TCP run in C (native/stream-conn.c)', () => {
  it('relays every ChannelData frame to the peer and back, exactly, in order', async () => {
    const server = await startServer();
    const before = stats();
    const c = await connect(server);
    const relay = readXorAddress(await c.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17)), AttributeType.XorRelayedAddress)!;
    expect(stats().adoptedPlain).toBe(before.adoptedPlain + 1); // on its first bytes
    const peer = await openPeerUntilCleanup(cleanups);
    await c.request(Method.ChannelBind, (b) => b.addChannelNumber(0x4000).addXorAddress(AttributeType.XorPeerAddress, peer.address));
    await expectChannelDataBothWays(c, peer, relay);
    c.close();
    expect(await waitFor(() => server.engine.allocations.size === 0 && allClosed(server)())).toBe(true);
    expect(await waitFor(() => stats().live === before.live)).toBe(true);
  });

  it('relays turnutils_uclient -t with 0 lost, every connection run by the addon', async () => {
    const server = await startServer();
    const peer = await startPeer();
    const before = stats();
    const { address, port } = server.streamAddresses[0]!;
    const r = await runUclient({ host: address, port, user: ALICE.username, password: ALICE.password, clients: 10, messages: 200, length: 120, noRtcp: true, tcp: true, peerAddr: peer.host, peerPort: peer.port, timeoutMs: 45_000 });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.received).toBe(2000);
    expect(r.lostPackets).toBe(0);
    expect(stats().adoptedPlain).toBeGreaterThanOrEqual(before.adoptedPlain + 10);
  }, 60_000);

  it('answers STUN cut at every byte, and a frame split across many writes', async () => {
    const server = await startServer();
    const c = await connect(server);
    const request = binding();
    for (let cut = 1; cut < request.length; cut++) {
      c.socket.write(request.subarray(0, cut));
      await new Promise((r) => setTimeout(r, 5));
      c.socket.write(request.subarray(cut));
      expect((await c.nextMessage()).cls).toBe(StunClass.SuccessResponse);
    }
    for (const byte of binding()) {
      c.socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    expect((await c.nextMessage()).cls).toBe(StunClass.SuccessResponse);
  });

  it('writes a 64 KiB ChannelData frame at once, as net.Socket did: a reading client loses none of a burst of them', async () => {
    const { server, c, relay, peer } = await channelToPeer();
    let received = 0;
    c.socket.removeAllListeners('data');
    c.socket.on('data', (d: Buffer) => (received += d.length));
    // Frames over one TLS record's size were queued whole, never tried at once: six of them
    // (384 KiB) read in one batch passed RELAY_HIGH_WATER, and the rest were dropped although
    // the kernel had room (TURNPIKE_TCP=node dropped none).
    const payload = Buffer.alloc(65_507, 1);
    const span = 4 + payload.length + 1; // padded to 4
    const bursts = 20;
    const burst = 6;
    for (let i = 0; i < bursts; i++) {
      for (let j = 0; j < burst; j++) peer.socket.send(payload, relay.port, relay.address);
      await waitFor(() => received === (i + 1) * burst * span || server.engine.counters.droppedBackpressure > 0, 50);
    }
    expect(server.engine.counters.droppedBackpressure).toBe(0);
    expect(received).toBe(bursts * burst * span);
  }, 30_000);

  it('relays to a client that stops reading only whole frames, in order: what a partial send left is sent from where it stopped', async () => {
    const { c, relay, peer } = await channelToPeer();
    const before = stats();
    const received: Buffer[] = [];
    c.socket.removeAllListeners('data'); // the frames are cut here, from the raw bytes
    c.socket.on('data', (d: Buffer) => received.push(d));
    c.socket.pause();
    // Sizes that end sends at odd offsets, one TLS-record-sized write, and 64 KiB frames (queued whole).
    const sizes = [8, 1001, 1399, 16_380, 16_381, 30_001, 65_507, 13];
    const payloadOf = (seq: number) => {
      const p = Buffer.alloc(sizes[seq % sizes.length]!, seq & 0xff);
      p.writeUInt32BE(seq, 0);
      return p;
    };
    const sent = 1_500;
    for (let seq = 0; seq < sent; seq++) {
      await new Promise<void>((r) => peer.socket.send(payloadOf(seq), relay.port, relay.address, () => r()));
      if (seq % 20 === 19) await new Promise((r) => setTimeout(r, 1));
    }
    expect(await waitFor(() => stats().queued > before.queued, 500)).toBe(true); // partial sends: the addon queued
    c.socket.resume();
    // The last frame: a marker sent (again, should the client's queue still drop it) until it arrives.
    const marker = Buffer.from('ffffffffeeeeeeee', 'hex');
    const markerFrame = Buffer.concat([Buffer.from([0x40, 0x00, 0x00, 0x08]), marker]);
    const arrived = () => Buffer.concat(received).includes(markerFrame);
    for (let i = 0; i < 100 && !arrived(); i++) {
      peer.socket.send(marker, relay.port, relay.address);
      await waitFor(arrived, 5);
    }
    const bytes = Buffer.concat(received);
    let offset = 0;
    let last = -1;
    let frames = 0;
    while (!bytes.subarray(offset, offset + markerFrame.length).equals(markerFrame)) {
      expect(bytes.readUInt16BE(offset)).toBe(0x4000);
      const length = bytes.readUInt16BE(offset + 2);
      const payload = bytes.subarray(offset + 4, offset + 4 + length);
      const seq = payload.readUInt32BE(0);
      expect(seq).toBeGreaterThan(last); // none twice, none out of order (the queue drops whole frames only)
      expect(payload.equals(payloadOf(seq))).toBe(true);
      last = seq;
      frames++;
      offset += (4 + length + 3) & ~3;
    }
    expect(frames).toBeGreaterThan(0);
    expect(stats().drained).toBeGreaterThan(before.drained);
  }, 30_000);

  it('bounds what waits for a client that does not read: reads stop at 1 MiB queued, and none is lost', async () => {
    const server = await startServer();
    expect(await waitFor(() => stats().live === 0)).toBe(true);
    const c = await connect(server);
    const before = stats();
    const requests = 400_000; // 8 MB of requests, 20 MB of answers: more than the socket buffers hold
    c.socket.pause();
    c.socket.write(Buffer.concat(Array.from({ length: requests }, binding)));
    expect(await waitFor(() => stats().queued > before.queued, 500)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    // At most the limit and one read batch's answers (64 KiB of 20-byte requests).
    expect(serverSocket(server).writableLength).toBeLessThanOrEqual((1 << 20) + 256 * 1024);
    c.socket.resume();
    for (let i = 0; i < requests; i++) expect((await c.nextMessage(5000)).cls).toBe(StunClass.SuccessResponse);
    expect(stats().drained).toBeGreaterThan(before.drained);
    c.close();
    expect(await waitFor(() => stats().live === 0)).toBe(true);
  }, 60_000);

  it('closes connections that send garbage or go mid-write, leaking no descriptor, and keeps serving', async () => {
    const server = await startServer();
    const { address, port } = server.streamAddresses[0]!;
    expect(await waitFor(() => stats().live === 0)).toBe(true);
    const tcpBefore = openTcpSockets();
    const before = stats();
    const clients = 40;
    let seed = 11;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    await Promise.all(Array.from({ length: clients }, (_, i) => new Promise<void>((resolve) => {
      const raw = net.connect({ host: address, port });
      raw.on('error', () => {});
      raw.once('close', () => resolve());
      raw.once('connect', () => {
        if (i % 2 === 0) {
          // Random bytes (the first not 0x16, which would be TLS): the framer refuses them.
          const body = Buffer.from(Array.from({ length: 1 + ((i * 37) % 300) }, random));
          body[0] = 0x80 | body[0]!;
          raw.resume();
          raw.end(body);
        } else {
          // 10,000 Bindings, then gone before the answers are read: the server's writes fail.
          raw.write(Buffer.concat(Array.from({ length: 10_000 }, binding)), () => raw.destroy());
        }
      });
    })));
    expect(stats().adoptedPlain).toBe(before.adoptedPlain + clients);
    expect(await waitFor(allClosed(server), 250)).toBe(true);
    expect(await waitFor(() => stats().live === 0)).toBe(true); // every queue and descriptor freed
    expect(await waitFor(() => openTcpSockets() <= tcpBefore)).toBe(true);
    const c = await connect(server);
    c.socket.write(binding());
    expect((await c.nextMessage()).cls).toBe(StunClass.SuccessResponse);
  }, 30_000);

  it('2,000 connect/answer/close cycles leave no descriptor, no connection, and RSS flat', async () => {
    const server = await startServer();
    const { address, port } = server.streamAddresses[0]!;
    const cycle = () => new Promise<void>((resolve, reject) => {
      const raw = net.connect({ host: address, port }, () => raw.write(binding()));
      raw.once('data', () => raw.end());
      raw.once('close', () => resolve());
      raw.once('error', reject);
    });
    for (let i = 0; i < 200; i++) await cycle(); // warm-up
    expect(await waitFor(() => stats().live === 0 && allClosed(server)())).toBe(true);
    global.gc?.();
    const tcpBefore = openTcpSockets();
    const rssBefore = process.memoryUsage().rss;
    const before = stats();
    for (let i = 0; i < 2000; i++) await cycle();
    expect(stats().adoptedPlain).toBe(before.adoptedPlain + 2000);
    expect(await waitFor(() => stats().live === 0 && allClosed(server)())).toBe(true);
    expect(await waitFor(() => openTcpSockets() <= tcpBefore)).toBe(true);
    global.gc?.();
    const grown = process.memoryUsage().rss - rssBefore;
    console.log(`2,000 cycles: TCP descriptors ${tcpBefore} -> ${openTcpSockets()}, RSS ${(rssBefore / 2 ** 20).toFixed(1)} -> ${(process.memoryUsage().rss / 2 ** 20).toFixed(1)} MiB`);
    expect(grown).toBeLessThan(32 * 2 ** 20);
  }, 120_000);

  it('leaves plain TCP to net.Socket with TURNPIKE_TCP=node', async () => {
    const server = await startServer();
    const before = stats();
    process.env.TURNPIKE_TCP = 'node';
    cleanups.push(() => void delete process.env.TURNPIKE_TCP);
    const c = await connect(server);
    c.socket.write(binding());
    expect((await c.nextMessage()).cls).toBe(StunClass.SuccessResponse);
    expect(stats().adoptedPlain).toBe(before.adoptedPlain);
  });
});
