// TLS connections run in C (native/tls-stream.c, docs/native-tls.md), in process, with Node's
// TLS client: the addon's counters prove it is the one that ran them (TURNPIKE_TLS=node, or a
// broken addon, fails these tests), and what a client sees is what tls.TLSSocket gave.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerOptions } from '../../src/config/server-options.js';
import type { TurnServer } from '../../src/server.js';
import { AttributeType, MessageBuilder, Method, StunClass, readXorAddress } from '../../src/stun/index.js';
import { nativeTls } from '../../src/net/native-tls.js';
import { startInProcessTlsServer } from '../support/in-process-server.js';
import { makeCertificate, type TestCertificate } from '../support/certs.js';
import { ALICE, testServerOptions } from '../support/server-options.js';
import { StreamTestClient } from '../support/stream-client.js';
import { openPeer } from '../support/turn-client.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { expectChannelDataBothWays } from '../support/stream-channel-relay.js';
import { openTcpSockets, waitFor } from '../support/polling.js';

let certificate: TestCertificate;
beforeAll(() => {
  certificate = makeCertificate();
});
afterAll(() => certificate.remove());

const cleanups = cleanupAfterEach();
const linux = process.platform === 'linux';

function stats(): { adopted: number; queued: number; drained: number; live: number } {
  const native = nativeTls();
  if (!('tls' in native)) throw new Error(`native TLS unavailable: ${native.unavailable}`);
  return { ...native.tls.stats, live: native.tls.liveConnections() };
}

const startServer = (overrides: Partial<ServerOptions> = {}): Promise<TurnServer> => startInProcessTlsServer(cleanups, certificate, overrides);

async function connect(server: TurnServer): Promise<StreamTestClient> {
  const c = await StreamTestClient.open(server.streamAddresses[1]!, { secure: true, credentials: ALICE });
  cleanups.push(() => c.close());
  return c;
}

const binding = () => new MessageBuilder(Method.Binding, StunClass.Request).build();
/** Every connection the server had is gone, and no handshake is counted as pending. */
const allClosed = (server: TurnServer) => () => server.listeners.pendingTlsHandshakes === 0 && server.listeners.streams.every((l) => l.connections === 0);

/** A TLS client's outcome: its ALPN label, or the error that ended the handshake. */
function handshake(server: TurnServer, options: tls.ConnectionOptions): Promise<{ alpn?: string | false | null; error?: Error; tickets: number; socket: tls.TLSSocket }> {
  const { address, port } = server.streamAddresses[1]!;
  return new Promise((resolve) => {
    let tickets = 0;
    const socket = tls.connect({ host: address, port, rejectUnauthorized: false, ...options });
    cleanups.push(() => void socket.destroy());
    socket.on('session', () => tickets++);
    socket.once('secureConnect', () => {
      // TLS 1.3 tickets come after the handshake: a Binding answered means they are here.
      socket.write(binding());
      socket.once('data', () => resolve({ alpn: socket.alpnProtocol, tickets, socket }));
    });
    socket.once('error', (error) => resolve({ error, tickets, socket }));
    socket.once('close', () => resolve({ error: new Error('closed before an answer'), tickets, socket }));
  });
}

describe.runIf(linux)('TLS run in C (native/tls-stream.c)', () => {
  it('relays over TLS: every ChannelData frame to the peer and back, exactly, in order', async () => {
    const before = stats();
    const server = await startServer();
    const c = await connect(server);
    expect(stats().adopted).toBe(before.adopted + 1);
    const relay = readXorAddress(await c.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17)), AttributeType.XorRelayedAddress)!;
    const peer = await openPeer();
    cleanups.push(() => new Promise<void>((r) => peer.socket.close(() => r())));
    await c.request(Method.ChannelBind, (b) => b.addChannelNumber(0x4000).addXorAddress(AttributeType.XorPeerAddress, peer.address));
    await expectChannelDataBothWays(c, peer, relay);
    await new Promise((r) => setTimeout(r, 100));
    expect(peer.received).toHaveLength(0);
    c.close();
    expect(await waitFor(() => server.engine.allocations.size === 0 && allClosed(server)())).toBe(true);
  });

  it('chooses stun.turn by ALPN, serves a client that offers none, refuses one that offers only others', async () => {
    const server = await startServer();
    const before = stats();
    expect((await handshake(server, { ALPNProtocols: ['h2', 'stun.turn'] })).alpn).toBe('stun.turn');
    expect((await handshake(server, { ALPNProtocols: ['stun.nat-discovery'] })).alpn).toBe('stun.nat-discovery');
    const none = await handshake(server, {});
    expect(none.error).toBeUndefined();
    expect(none.alpn).toBe(false);
    const others = await handshake(server, { ALPNProtocols: ['h2'] });
    expect(others.error?.message).toMatch(/no application protocol/i);
    expect(stats().adopted).toBe(before.adopted + 4);
    // One TLS 1.3 ticket a connection (Node's tls.Server sends two).
    expect(none.tickets).toBe(1);
  });

  it('refuses TLS 1.1, and forgets the connection', async () => {
    const server = await startServer();
    const before = stats();
    const old = await handshake(server, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    expect(old.error?.message).toMatch(/protocol version|unsupported protocol/i);
    expect(stats().adopted).toBe(before.adopted + 1);
    expect(await waitFor(allClosed(server))).toBe(true);
    const tls12 = await handshake(server, { maxVersion: 'TLSv1.2', ALPNProtocols: ['stun.turn'] });
    expect(tls12.socket.getProtocol()).toBe('TLSv1.2');
  });

  it('takes cipher-list as Node does: TLS 1.2 suites only serve TLS 1.2 (mobile_relay.sh\'s ALL), TLS 1.3 suites as named', async () => {
    const base = await testServerOptions();
    const before = stats();
    const all = await startServer({ tls: { ...base.tls, cert: certificate.cert, pkey: certificate.key, cipherList: 'ALL' } });
    const old = await handshake(all, { ALPNProtocols: ['stun.turn'] });
    expect(old.error).toBeUndefined();
    expect(old.socket.getProtocol()).toBe('TLSv1.2');
    const chacha = await startServer({ tls: { ...base.tls, cert: certificate.cert, pkey: certificate.key, cipherList: 'TLS_CHACHA20_POLY1305_SHA256:ECDHE-RSA-AES128-GCM-SHA256' } });
    const modern = await handshake(chacha, { ALPNProtocols: ['stun.turn'] });
    expect(modern.socket.getProtocol()).toBe('TLSv1.3');
    expect(modern.socket.getCipher().standardName).toBe('TLS_CHACHA20_POLY1305_SHA256');
    expect(stats().adopted).toBe(before.adopted + 2);
  });

  it('closes connections that send garbage after a TLS record type, leaking no descriptor, and keeps serving', async () => {
    const server = await startServer();
    const { address, port } = server.streamAddresses[1]!;
    expect(await waitFor(() => stats().live === 0)).toBe(true); // the tests before have let theirs go
    const tcpBefore = openTcpSockets();
    const before = stats();
    const clients = 40;
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    await Promise.all(Array.from({ length: clients }, (_, i) => new Promise<void>((resolve) => {
      const raw = net.connect({ host: address, port });
      raw.on('error', () => {});
      raw.resume(); // the server's alert is read, so that its FIN is seen
      raw.once('close', () => resolve());
      raw.once('connect', () => {
        // A record header that says handshake, then bytes of no protocol: complete records of
        // random content, a record too long, a truncated one, or a stray change_cipher_spec.
        const body = Buffer.from(Array.from({ length: 1 + ((i * 37) % 300) }, random));
        const kind = i % 4;
        const header = kind === 1 ? [0x16, 0x03, 0x01, 0xff, 0xff] : [0x16, 0x03, 0x01, body.length >> 8, body.length & 0xff];
        raw.write(Buffer.concat([Buffer.from(header), kind === 2 ? body.subarray(0, body.length >> 1) : body, kind === 3 ? Buffer.from([0x14, 0x03, 0x03, 0x00, 0x01, 0x01]) : Buffer.alloc(0)]));
        raw.end(); // a client that stops mid-handshake and goes: the connection is not kept
      });
    })));
    expect(stats().adopted).toBe(before.adopted + clients);
    expect(await waitFor(allClosed(server))).toBe(true);
    expect(await waitFor(() => openTcpSockets() <= tcpBefore)).toBe(true);
    expect(await waitFor(() => stats().live === 0)).toBe(true); // every SSL, queue and descriptor freed
    const c = await connect(server);
    c.socket.write(binding());
    expect((await c.nextMessage()).cls).toBe(StunClass.SuccessResponse);
  });

  it('closes a handshake that stops halfway after the handshake timeout', async () => {
    const server = await startServer();
    const { address, port } = server.streamAddresses[1]!;
    const before = stats();
    const raw = net.connect({ host: address, port });
    raw.on('error', () => {});
    await new Promise((r) => raw.once('connect', r));
    raw.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    expect(await waitFor(() => server.listeners.pendingTlsHandshakes === 1)).toBe(true);
    expect(stats().adopted).toBe(before.adopted + 1);
    const closed = new Promise((r) => raw.once('close', r));
    await closed; // the server's 10 s handshake timeout
    expect(server.listeners.pendingTlsHandshakes).toBe(0);
    expect(await waitFor(allClosed(server))).toBe(true);
  }, 20_000);

  it('answers a burst from a client that does not read: the answers queue in C, and none is lost', async () => {
    const server = await startServer();
    expect(await waitFor(() => stats().live === 0)).toBe(true);
    const c = await connect(server);
    const before = stats();
    const requests = 150_000; // 3 MB of requests, 8 MB of answers in records: more than the socket buffers hold
    c.socket.pause();
    c.socket.write(Buffer.concat(Array.from({ length: requests }, binding)));
    // The kernel's buffers fill, then the addon queues records until the client reads again.
    expect(await waitFor(() => stats().queued > before.queued, 500)).toBe(true);
    c.socket.resume();
    for (let i = 0; i < requests; i++) expect((await c.nextMessage(5000)).cls).toBe(StunClass.SuccessResponse);
    expect(stats().drained).toBeGreaterThan(before.drained);
    c.socket.write(binding());
    expect((await c.nextMessage()).cls).toBe(StunClass.SuccessResponse);
    c.close();
    expect(await waitFor(() => stats().live === 0)).toBe(true); // its SSL and queue freed
  }, 60_000);

  it('answers after each KeyUpdate a client asks to be answered, and refuses renegotiation', async () => {
    const server = await startServer();
    const before = stats();
    const { address, port } = server.streamAddresses[1]!;
    // Node's TLS client cannot send a KeyUpdate: openssl s_client's "K" command sends one with
    // update_requested, which the server must answer with its own (a write inside SSL_read).
    const client = spawn('openssl', ['s_client', '-connect', `${address}:${port}`, '-tls1_3', '-alpn', 'stun.turn'], { stdio: 'pipe' });
    cleanups.push(() => void client.kill());
    let seen = Buffer.alloc(0);
    const collect = (d: Buffer) => (seen = Buffer.concat([seen, d]));
    client.stdout.on('data', collect);
    client.stderr.on('data', collect); // where it says KEYUPDATE
    const until = async (text: Buffer | string) => expect(await waitFor(() => seen.includes(text), 250)).toBe(true);
    await until('Verify return code');
    for (let round = 0; round < 3; round++) {
      const request = binding();
      client.stdin.write(request);
      await until(request.subarray(8, 20)); // the answer carries the transaction ID
      seen = Buffer.alloc(0);
      client.stdin.write('K\n');
      await until('KEYUPDATE');
    }
    const last = binding();
    client.stdin.write(last);
    await until(last.subarray(8, 20));
    client.stdin.end();
    expect(stats().adopted).toBe(before.adopted + 1);
    // TLS 1.2: a client's renegotiation is refused (SSL_OP_NO_RENEGOTIATION), and the server goes on serving.
    const tls12 = await handshake(server, { maxVersion: 'TLSv1.2', ALPNProtocols: ['stun.turn'] });
    expect(tls12.socket.getProtocol()).toBe('TLSv1.2');
    const renegotiated = await new Promise<Error | null>((resolve) => {
      tls12.socket.once('error', resolve);
      if (!tls12.socket.renegotiate({}, (error) => resolve(error ?? null))) resolve(new Error('renegotiate() refused locally'));
      tls12.socket.write(binding());
    });
    expect(renegotiated?.message).toMatch(/no renegotiation/i);
    expect((await connect(server)).socket.writable).toBe(true);
    expect(stats().adopted).toBe(before.adopted + 3);
  });

  it('reloads the certificate for new connections; the open one keeps going', async () => {
    const mine = makeCertificate('before.example');
    const next = makeCertificate('after.example');
    cleanups.push(() => mine.remove());
    cleanups.push(() => next.remove());
    const base = await testServerOptions();
    const server = await startServer({ tls: { ...base.tls, cert: mine.cert, pkey: mine.key } });
    const before = stats();
    const servedName = async () => (await connect(server)).socket as tls.TLSSocket;
    const first = await servedName();
    expect(first.getPeerCertificate().subject.CN).toBe('before.example');
    fs.copyFileSync(next.cert, mine.cert);
    fs.copyFileSync(next.key, mine.key);
    expect(server.reloadCertificates()).toBe(true);
    expect((await servedName()).getPeerCertificate().subject.CN).toBe('after.example');
    fs.writeFileSync(mine.cert, 'not a certificate');
    expect(server.reloadCertificates()).toBe(false);
    expect((await servedName()).getPeerCertificate().subject.CN).toBe('after.example');
    expect(stats().adopted).toBe(before.adopted + 3);
    first.write(binding());
    await new Promise((r) => first.once('data', r));
  });

  it('leaves client certificates (CA-file) to Node', async () => {
    const base = await testServerOptions();
    const server = await startServer({ tls: { ...base.tls, cert: certificate.cert, pkey: certificate.key, caFile: certificate.cert } });
    const before = stats();
    const refused = await handshake(server, { ALPNProtocols: ['stun.turn'] });
    expect(refused.error ?? refused.socket.destroyed).toBeTruthy();
    expect(stats().adopted).toBe(before.adopted);
  });
});
