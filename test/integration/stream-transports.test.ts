// TURN over TCP and TLS, in process: framing as a client's TCP stack delivers it, and no
// connection — broken, silent or half-shaken — leaves a socket or an allocation behind.
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerOptions } from '../../src/config/server-options.js';
import type { TurnServer } from '../../src/server.js';
import { AttributeType, MessageBuilder, Method, StunClass, readXorAddress, type StunMessage } from '../../src/stun/index.js';
import { startInProcessTlsServer } from '../support/in-process-server.js';
import { makeCertificate, type TestCertificate } from '../support/certs.js';
import { ALICE, testServerOptions } from '../support/server-options.js';
import { StreamTestClient } from '../support/stream-client.js';
import { openPeer } from '../support/turn-client.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { waitFor } from '../support/polling.js';
import { tapTlsRecords } from '../support/tls-records.js';

let certificate: TestCertificate;
beforeAll(() => {
  certificate = makeCertificate();
});
afterAll(() => certificate.remove());

const cleanups = cleanupAfterEach();

const startServer = (overrides: Partial<ServerOptions> = {}): Promise<TurnServer> => startInProcessTlsServer(cleanups, certificate, overrides);

/** A client connection on the server's first (plain port) or second (TLS port) listener. */
async function connect(server: TurnServer, secure: boolean, which = 0, credentials = ALICE): Promise<StreamTestClient> {
  const c = await StreamTestClient.open(server.streamAddresses[which]!, { secure, credentials });
  cleanups.push(() => c.close());
  return c;
}

const binding = () => new MessageBuilder(Method.Binding, StunClass.Request).build();
const isMessage = (x: StunMessage | Buffer): x is StunMessage => !Buffer.isBuffer(x);

describe('STUN/TURN over TCP and TLS', () => {
  it('answers a Binding over TCP and over TLS, on either port', async () => {
    const server = await startServer();
    expect(server.streamAddresses).toHaveLength(2);
    for (const which of [0, 1]) {
      for (const secure of [false, true]) {
        const c = await connect(server, secure, which);
        c.socket.write(binding());
        const answer = await c.next();
        expect(isMessage(answer) && readXorAddress(answer, AttributeType.XorMappedAddress)?.port).toBe(c.socket.localPort);
        // RFC 7443: the ALPN label for TURN is chosen when the client offers it.
        if (secure) expect((c.socket as tls.TLSSocket).alpnProtocol).toBe('stun.turn');
      }
    }
  });

  it('serves plain TCP and TLS on a port with a certificate, both through the native accept: each allocates and relays', async () => {
    // Production: cert and pkey set, so TLS may arrive on listening-port; plain TCP there still reads with onread.
    const server = await startServer();
    expect(server.listeners.streams[0]!.accepting).toBe(process.platform === 'linux' ? 'native' : 'net.Server');
    for (const secure of [false, true]) {
      const c = await connect(server, secure);
      const relay = readXorAddress(await c.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17)), AttributeType.XorRelayedAddress)!;
      const peer = await openPeer();
      cleanups.push(() => new Promise<void>((r) => peer.socket.close(() => r())));
      await c.request(Method.ChannelBind, (b) => b.addChannelNumber(0x4000).addXorAddress(AttributeType.XorPeerAddress, peer.address));
      c.socket.write(Buffer.from([0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4]));
      expect((await peer.next()).data).toEqual(Buffer.from([1, 2, 3, 4]));
      peer.socket.send(Buffer.from([5, 6, 7, 8]), relay.port, relay.address);
      expect(await c.next()).toEqual(Buffer.from([0x40, 0x00, 0x00, 0x04, 5, 6, 7, 8]));
      c.close();
    }
    // Both connections, the TLS one with the socket under it, are gone once their clients are.
    expect(await waitFor(() => server.engine.allocations.size === 0 && server.listeners.streams.every((l) => l.connections === 0))).toBe(true);
  });

  it('answers several requests from one TLS segment each in a record of its own', async () => {
    // coturn's client reads one record per message and loses a second one in the same record.
    const server = await startServer();
    const tap = await tapTlsRecords(cleanups, server.streamAddresses[1]!);
    // TLS 1.2: every application-data record is data (TLS 1.3 disguises handshake records too).
    const c = await StreamTestClient.open(tap, { secure: true, maxTlsVersion: 'TLSv1.2' });
    cleanups.push(() => c.close());
    c.socket.write(Buffer.concat([binding(), binding(), binding()]));
    for (let i = 0; i < 3; i++) expect(isMessage(await c.next())).toBe(true);
    expect(tap.applicationRecords).toBe(3);
  });

  it('allocates over TLS, and the allocation ends when the connection does', async () => {
    const server = await startServer();
    const c = await connect(server, true);
    const allocated = await c.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17));
    expect(allocated.cls).toBe(StunClass.SuccessResponse);
    expect(server.engine.allocations.size).toBe(1);
    c.close();
    expect(await waitFor(() => server.engine.allocations.size === 0)).toBe(true);
  });

  it('forgets a half-open TLS handshake when its client goes away', async () => {
    const server = await startServer();
    const { address, port } = server.streamAddresses[1]!;
    const raw = net.connect({ host: address, port });
    await new Promise((r) => raw.once('connect', r));
    // The first bytes of a ClientHello record, and then nothing.
    raw.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    expect(await waitFor(() => server.listeners.pendingTlsHandshakes === 1)).toBe(true);
    raw.destroy();
    expect(await waitFor(() => server.listeners.pendingTlsHandshakes === 0)).toBe(true);
    expect(await waitFor(() => server.listeners.streams.every((l) => l.connections === 0))).toBe(true);
  });

  it('refuses TLS on a server without a certificate, and keeps serving plain TCP', async () => {
    const base = await testServerOptions();
    const server = await startServer({ tls: base.tls });
    expect(server.streamAddresses).toHaveLength(1);
    const secure = tls.connect({ ...server.streamAddresses[0]!, host: server.streamAddresses[0]!.address, rejectUnauthorized: false });
    await new Promise((r) => secure.once('error', r).once('close', r));
    const c = await connect(server, false);
    c.socket.write(binding());
    expect(isMessage(await c.next())).toBe(true);
  });

  it('reloads the certificate, and keeps the old one when the new one is bad', async () => {
    const mine = makeCertificate('before.example');
    const next = makeCertificate('after.example');
    cleanups.push(() => mine.remove());
    cleanups.push(() => next.remove());
    const base = await testServerOptions();
    const server = await startServer({ tls: { ...base.tls, cert: mine.cert, pkey: mine.key } });
    const servedName = async () => {
      const c = await connect(server, true);
      return (c.socket as tls.TLSSocket).getPeerCertificate().subject.CN;
    };
    expect(await servedName()).toBe('before.example');
    fs.copyFileSync(next.cert, mine.cert);
    fs.copyFileSync(next.key, mine.key);
    expect(server.reloadCertificates()).toBe(true);
    expect(await servedName()).toBe('after.example');
    fs.writeFileSync(mine.cert, 'not a certificate');
    expect(server.reloadCertificates()).toBe(false);
    expect(await servedName()).toBe('after.example');
  });
});

/**
 * Plain TCP is accepted by native/tcp-accept.c on Linux, whose sockets read with `onread` into one
 * reused buffer (docs/native-tcp-accept.md), on a port TLS may also arrive on (the first byte
 * decides) as on a plain one; by net.Server with TURNPIKE_TCP_ACCEPT=net. Relayed data is written
 * by the same addon (native-frame-writer.ts), or with socket.write under TURNPIKE_TCP_WRITE=node.
 * All frame, relay and close alike.
 */
const NATIVE = process.platform === 'linux' ? 'native' : 'net.Server';
describe.each([
  { port: 'a port TLS shares', overrides: {}, accepting: NATIVE, env: {} },
  { port: 'a plain TCP port', overrides: { noTls: true }, accepting: NATIVE, env: {} },
  { port: 'a plain TCP port, relayed data through socket.write', overrides: { noTls: true }, accepting: NATIVE, env: { TURNPIKE_TCP_WRITE: 'node' } },
] as const)('TCP on $port, accepted by $accepting', ({ overrides, accepting, env }) => {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  beforeAll(() => void Object.assign(process.env, env));
  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  const startTcpServer = async (more: Partial<ServerOptions> = {}) => {
    const server = await startServer({ ...overrides, ...more });
    expect(server.listeners.streams[0]!.accepting).toBe(accepting);
    return server;
  };

  it('cuts requests that arrive one byte at a time, and several in one segment', async () => {
    const server = await startTcpServer();
    const c = await connect(server, false);
    for (const byte of binding()) {
      c.socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    expect(isMessage(await c.next())).toBe(true);
    c.socket.write(Buffer.concat([binding(), binding(), binding()]));
    for (let i = 0; i < 3; i++) expect(isMessage(await c.next())).toBe(true);
  });

  it('leaves no allocation behind when the client leaves in the middle of its Allocate', async () => {
    const server = await startTcpServer();
    for (let i = 0; i < 20; i++) {
      const c = await connect(server, false);
      await c.request(Method.Refresh); // 437, but the challenge before it taught the nonce
      c.socket.write(c.signed(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17)));
      c.socket.destroy();
    }
    const c = await connect(server, false);
    await c.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17));
    c.close();
    expect(await waitFor(() => server.engine.allocations.size === 0)).toBe(true);
  });

  it.each([
    ['garbage', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['an oversized ChannelData length', Buffer.from([0x40, 0x00, 0xff, 0xf0])],
    ['a STUN length that is not a multiple of 4', Buffer.from([0x00, 0x01, 0x00, 0x05, 0x21, 0x12, 0xa4, 0x42])],
  ])('closes a connection that sends %s', async (_what, bytes) => {
    const server = await startTcpServer();
    const c = await connect(server, false);
    c.socket.write(bytes);
    await c.closed();
    expect(await waitFor(() => server.listeners.streams.every((l) => l.connections === 0))).toBe(true);
  });

  it('lets a client leave in the middle of a frame, and keeps serving others', async () => {
    const server = await startTcpServer();
    const c = await connect(server, false);
    c.socket.write(binding().subarray(0, 13));
    await new Promise((r) => setTimeout(r, 20)); // the server has read the half frame
    c.socket.end();
    expect(await waitFor(() => server.listeners.streams.every((l) => l.connections === 0))).toBe(true);
    const other = await connect(server, false);
    other.socket.write(binding());
    expect(isMessage(await other.next())).toBe(true);
  });

  it('closes a connection that never allocates, after max-allocate-timeout', async () => {
    const server = await startTcpServer({ maxAllocateTimeout: 1 });
    const c = await connect(server, false);
    c.socket.write(binding());
    await c.next();
    const started = Date.now();
    await c.closed();
    expect(Date.now() - started).toBeLessThan(3000);
  });

  describe('ChannelData over TCP', () => {
    /** 1 to 17 bytes: every padding (0-3 bytes) several times; length and content tell them apart. */
    const payloads = Array.from({ length: 17 }, (_, i) => Buffer.alloc(i + 1, i + 1));
    const CHANNEL = 0x4000;
    const padded = (payload: Buffer) => {
      const frame = Buffer.alloc(4 + ((payload.length + 3) & ~3));
      frame.writeUInt16BE(CHANNEL, 0);
      frame.writeUInt16BE(payload.length, 2);
      payload.copy(frame, 4);
      return frame;
    };

    /** A TCP client with an allocation and a channel to a fresh UDP peer. */
    async function clientWithChannel() {
      const server = await startTcpServer();
      const c = await connect(server, false);
      c.socket.setNoDelay(true);
      const relay = readXorAddress(await c.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17)), AttributeType.XorRelayedAddress)!;
      const peer = await openPeer();
      cleanups.push(() => new Promise<void>((r) => peer.socket.close(() => r())));
      await c.request(Method.ChannelBind, (b) => b.addChannelNumber(CHANNEL).addXorAddress(AttributeType.XorPeerAddress, peer.address));
      return { c, relay, peer };
    }

    it('relays frames split at every byte offset, and several in one segment, to the peer intact and in order', async () => {
      const { c, peer } = await clientWithChannel();
      const stream = Buffer.concat(payloads.map(padded));
      // One byte a write: the server reads a frame boundary, a header and a padding split at every offset.
      for (const byte of stream) {
        c.socket.write(Buffer.from([byte]));
        await new Promise((r) => setImmediate(r));
      }
      c.socket.write(stream); // then all of them in one segment
      const received: Buffer[] = [];
      for (let i = 0; i < 2 * payloads.length; i++) received.push((await peer.next()).data);
      expect(received).toEqual([...payloads, ...payloads]);
    });

    it('frames what the peer sends, padded, for the client intact and in order', async () => {
      const { c, relay, peer } = await clientWithChannel();
      const rounds = 20; // a burst: several frames for the client within one round of the event loop
      for (let r = 0; r < rounds; r++) for (const p of payloads) peer.socket.send(p, relay.port, relay.address);
      const expected = payloads.map((p) => padded(p).subarray(0, 4 + p.length));
      for (let r = 0; r < rounds; r++) {
        for (const frame of expected) expect(await c.next()).toEqual(frame);
      }
    });
  });

  describe('backpressure', () => {
    it('drops (and counts) relayed data for a TCP client that does not read, instead of queueing it', async () => {
      const server = await startTcpServer();
      const c = await connect(server, false);
      const relay = readXorAddress(await c.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17)), AttributeType.XorRelayedAddress)!;
      const peer = await openPeer();
      cleanups.push(() => new Promise<void>((r) => peer.socket.close(() => r())));
      await c.request(Method.ChannelBind, (b) => b.addChannelNumber(0x4000).addXorAddress(AttributeType.XorPeerAddress, peer.address));
      c.socket.pause(); // the client stops reading
      const payload = Buffer.alloc(1200, 7);
      // 12,000 datagrams (14.4 MB), paced so that the server (in this same process) reads them:
      // far more than the kernel's socket buffers and the high-water mark hold together.
      const sent = 12_000;
      for (let i = 0; i < sent; i++) {
        peer.socket.send(payload, relay.port, relay.address);
        if (i % 40 === 39) await new Promise((r) => setTimeout(r, 1));
      }
      expect(await waitFor(() => server.engine.counters.droppedBackpressure > 0)).toBe(true);
      // What was queued for the client is bounded: the socket's buffers plus the high-water mark.
      expect(server.engine.counters.relayedToClientBytes).toBeLessThan(sent * payload.length);
    });
  });
});
