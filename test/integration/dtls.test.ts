// DTLS in process: the stateless cookie exchange, the cap and timeout on unfinished
// handshakes, and sessions (driven by OpenSSL's s_client) whose end frees their allocation.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DTLS_LIMITS, type DtlsLimits } from '../../src/net/dtls/service.js';
import { createTurnServer } from '../../src/server.js';
import { silentLogger } from '../../src/log/logger-interface.js';
import { AttributeType, Method, StunClass, readXorAddress } from '../../src/stun/index.js';
import { makeCertificate } from '../support/certs.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { waitForUdpStun } from '../support/processes.js';
import { ALICE, testServerOptions } from '../support/server-options.js';
import { clientHelloDatagram, helloVerifyCookie } from '../unit/dtls/client-hello.js';
import {
  certificateOf,
  cookieFor,
  rawSocket as rawSocketFor,
  startDtls as startDtlsFor,
  waitFor,
  certificateForFile,
  type CertificateFiles,
} from '../unit/dtls/harness.js';
import { OpensslDtlsClient } from '../unit/dtls/openssl-dtls-client.js';
import { socketsOn } from '../support/proc-net-udp.js';

const certificate = certificateForFile();
const cleanups = cleanupAfterEach();

const startDtls = (limits: Partial<DtlsLimits> = {}, clock?: () => number, host?: string, cert: CertificateFiles = certificate) =>
  startDtlsFor(cleanups, cert, { limits, clock, host });
const rawSocket = () => rawSocketFor(cleanups);

describe('the cookie exchange', () => {
  it('answers a ClientHello without a cookie with a HelloVerifyRequest and keeps no state', async () => {
    const { service, address } = await startDtls();
    const raw = await rawSocket();
    raw.socket.send(clientHelloDatagram({ recordSequence: 7 }), address.port, '127.0.0.1');
    expect(await waitFor(() => raw.received.length === 1)).toBe(true);
    const answer = raw.received[0]!;
    expect(helloVerifyCookie(answer)?.length).toBe(20);
    expect(answer.readUIntBE(5, 6)).toBe(7); // RFC 6347 §4.2.1: the ClientHello's record number
    expect(service.sessions).toBe(0);
    expect(service.pendingHandshakes).toBe(0);
    expect(service.counters.helloVerifyRequests).toBe(1);
  });

  it('answers a wrong cookie, or another 5-tuple\'s cookie, the same way', async () => {
    const { service, address } = await startDtls();
    const a = await rawSocket();
    const b = await rawSocket();
    const random = randomBytes(32);
    const cookie = await cookieFor(a, address.port, random);
    b.socket.send(clientHelloDatagram({ random, cookie }), address.port, '127.0.0.1');
    a.socket.send(clientHelloDatagram({ random, cookie: randomBytes(20) }), address.port, '127.0.0.1');
    expect(await waitFor(() => a.received.length === 2 && b.received.length === 1)).toBe(true);
    expect(helloVerifyCookie(a.received[1]!)).toBeDefined();
    expect(helloVerifyCookie(b.received[0]!)).toBeDefined();
    expect(service.sessions).toBe(0);
    expect(service.counters.helloVerifyRequests).toBe(3);
  });

  it('starts a handshake for a valid cookie, once, and sends the flight again for a repeat', async () => {
    let now = 1_000_000;
    const { service, address } = await startDtls({}, () => now);
    const raw = await rawSocket();
    const random = randomBytes(32);
    const cookie = await cookieFor(raw, address.port, random);
    raw.socket.send(clientHelloDatagram({ random, cookie, messageSeq: 1, recordSequence: 1 }), address.port, '127.0.0.1');
    expect(await waitFor(() => raw.received.length >= 2)).toBe(true);
    expect(raw.received[1]![13]).toBe(2); // a ServerHello
    expect(service.sessions).toBe(1);
    expect(service.pendingHandshakes).toBe(1);
    const flight = raw.received.length;
    now += 1000;
    raw.socket.send(clientHelloDatagram({ random, cookie, messageSeq: 1, recordSequence: 2 }), address.port, '127.0.0.1');
    expect(await waitFor(() => raw.received.length === 2 * flight - 1)).toBe(true);
    expect(service.sessions).toBe(1);
    expect(service.counters.handshakesStarted).toBe(1);
  });

  it('answers a ClientHello whose record number leaves no room for the flight, and logs no error', async () => {
    const errors: string[] = [];
    const logger = { ...silentLogger, error: (m: string) => void errors.push(m) };
    const { address } = await startDtlsFor(cleanups, certificate, { logger });
    const raw = await rawSocket();
    const random = randomBytes(32);
    const cookie = await cookieFor(raw, address.port, random);
    raw.socket.send(clientHelloDatagram({ random, cookie, messageSeq: 1, recordSequence: 2 ** 48 - 2 }), address.port, '127.0.0.1');
    expect(await waitFor(() => raw.received.length === 2)).toBe(true);
    expect(raw.received[1]![0]).toBe(21); // a fatal alert: the server's numbers continue from the client's
    expect(raw.received[1]![13]).toBe(2);
    expect(errors).toEqual([]);
  });

  it('drops records from a 5-tuple without a session that are not ClientHellos', async () => {
    const { service, address } = await startDtls();
    const raw = await rawSocket();
    const applicationData = Buffer.from('17fefd000100000000000100050102030405', 'hex');
    const changeCipherSpec = Buffer.from('14fefd0000000000000000000101', 'hex');
    raw.socket.send(applicationData, address.port, '127.0.0.1');
    raw.socket.send(changeCipherSpec, address.port, '127.0.0.1');
    raw.socket.send(Buffer.from([22, 0xfe, 0xfd, 0]), address.port, '127.0.0.1'); // cut short
    expect(await waitFor(() => service.counters.droppedRecords === 3)).toBe(true);
    expect(service.sessions).toBe(0);
  });

  it('refuses a client that offers only DTLS 1.0, with an alert and no state', async () => {
    const { service, address } = await startDtls();
    const raw = await rawSocket();
    raw.socket.send(clientHelloDatagram({ version: 0xfeff }), address.port, '127.0.0.1');
    expect(await waitFor(() => raw.received.length === 1)).toBe(true);
    expect([...raw.received[0]!.subarray(13)]).toEqual([2, 70]); // fatal protocol_version
    expect(service.sessions).toBe(0);
  });
});

describe('a flood of ClientHellos without cookies', () => {
  it('is answered with HelloVerifyRequests and leaves no DTLS state', async () => {
    const { service, address } = await startDtls();
    const sockets = await Promise.all(Array.from({ length: 20 }, () => rawSocket()));
    const deadline = Date.now() + 20_000;
    // Bounded: 20,000 datagrams, paced in batches, from 20 sockets; within 20 s at most.
    for (let sent = 0; sent < 20_000 && Date.now() < deadline; sent += 200) {
      for (let i = 0; i < 200; i++) sockets[i % 20]!.socket.send(clientHelloDatagram({ recordSequence: sent + i }), address.port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(await waitFor(() => sockets.some((s) => s.received.length > 0))).toBe(true);
    expect(service.counters.helloVerifyRequests).toBeGreaterThan(1000);
    expect(service.sessions).toBe(0);
    expect(service.pendingHandshakes).toBe(0);
    expect(service.counters.handshakesStarted).toBe(0);
  });
});

describe('unfinished handshakes', () => {
  it('are capped, and end at the timeout', async () => {
    let now = 1_000_000;
    const { service, address } = await startDtls({ maxHandshakes: 3, handshakeTimeoutMs: 10_000 }, () => now);
    for (let i = 0; i < 5; i++) {
      const raw = await rawSocket();
      const random = randomBytes(32);
      const cookie = await cookieFor(raw, address.port, random);
      raw.socket.send(clientHelloDatagram({ random, cookie, messageSeq: 1, recordSequence: 1 }), address.port, '127.0.0.1');
    }
    const { counters } = service;
    expect(await waitFor(() => counters.handshakesStarted + counters.refusedHandshakes === 5)).toBe(true);
    expect(service.pendingHandshakes).toBe(3);
    expect(counters.refusedHandshakes).toBe(2);
    now += 9_999;
    service.sweep();
    expect(service.sessions).toBe(3);
    now += 1;
    service.sweep();
    expect(service.sessions).toBe(0);
    expect(service.pendingHandshakes).toBe(0);
    expect(counters.handshakesFailed).toBe(3);
  });

  it('are capped per source address too, so one host cannot hold every slot', async () => {
    const { service, address } = await startDtls();
    // 256 half-open handshakes (the server-wide cap) from 127.0.0.2, one per port.
    const sockets = await Promise.all(Array.from({ length: 256 }, () => rawSocketFor(cleanups, '127.0.0.2')));
    await Promise.all(sockets.map(async (raw) => {
      const random = randomBytes(32);
      const cookie = await cookieFor(raw, address.port, random);
      raw.socket.send(clientHelloDatagram({ random, cookie, messageSeq: 1, recordSequence: 1 }), address.port, '127.0.0.1');
    }));
    const { counters } = service;
    expect(await waitFor(() => counters.handshakesStarted + counters.refusedHandshakes === 256)).toBe(true);
    // A client on another address still gets through.
    const client = OpensslDtlsClient.start('127.0.0.1', address.port);
    cleanups.push(() => client.kill());
    expect((await client.request(Method.Binding)).cls).toBe(StunClass.SuccessResponse);
    expect(counters.handshakesStarted).toBe(DEFAULT_DTLS_LIMITS.maxHandshakesPerSource + 1);
    expect(counters.refusedPerSource).toBe(256 - DEFAULT_DTLS_LIMITS.maxHandshakesPerSource);
  });
});

describe('DTLS sessions with a real client', () => {
  const allocate = (client: OpensslDtlsClient) => client.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17));

  it('answers a Binding, and frees the allocation when the client says close_notify', async () => {
    const { server, service, address } = await startDtls();
    const client = OpensslDtlsClient.start('127.0.0.1', address.port, { credentials: ALICE });
    cleanups.push(() => client.kill());
    const binding = await client.request(Method.Binding);
    expect(readXorAddress(binding, AttributeType.XorMappedAddress)?.address).toBe('127.0.0.1');
    expect((await allocate(client)).cls).toBe(StunClass.SuccessResponse);
    expect([...server.engine.allocations].map((a) => a.session.transport)).toEqual(['dtls']);
    await client.end();
    expect(await waitFor(() => server.engine.allocations.size === 0)).toBe(true);
    expect(service.sessions).toBe(0);
  });

  it.runIf(process.platform === 'linux')('serves an allocated session on a socket of its own, connected to the client, until it ends', async () => {
    const { udp, address } = await startDtls();
    const client = OpensslDtlsClient.start('127.0.0.1', address.port, { credentials: ALICE });
    cleanups.push(() => client.kill());
    expect((await client.request(Method.Binding)).cls).toBe(StunClass.SuccessResponse);
    expect(socketsOn(address)).toEqual(['00000000:0000']); // a handshake alone gets none
    expect((await allocate(client)).cls).toBe(StunClass.SuccessResponse);
    expect(await waitFor(() => socketsOn(address).length === 2)).toBe(true);
    const connected = socketsOn(address).filter((remote) => remote !== '00000000:0000');
    expect(connected).toHaveLength(1);
    expect(connected[0]).toMatch(/^0100007F:/); // 127.0.0.1, at the client's port
    const atListener = udp.received;
    expect((await client.request(Method.Binding)).cls).toBe(StunClass.SuccessResponse);
    expect(udp.received).toBe(atListener); // the kernel gave the client's records to the session's socket
    await client.end();
    expect(await waitFor(() => socketsOn(address).length === 1)).toBe(true);
  });

  it('frees the allocation of a client that goes silent, at the idle timeout', async () => {
    let now = 1_000_000;
    const { server, service, address } = await startDtls({ idleTimeoutMs: 60_000 }, () => now);
    const client = OpensslDtlsClient.start('127.0.0.1', address.port, { credentials: ALICE });
    expect((await allocate(client)).cls).toBe(StunClass.SuccessResponse);
    await client.kill();
    now += 59_999;
    service.sweep();
    expect(server.engine.allocations.size).toBe(1);
    now += 1;
    service.sweep();
    expect(server.engine.allocations.size).toBe(0);
    expect(service.sessions).toBe(0);
  });

  it('ends the session when its allocation is refreshed to 0', async () => {
    const { server, service, address } = await startDtls();
    const client = OpensslDtlsClient.start('127.0.0.1', address.port, { credentials: ALICE });
    cleanups.push(() => client.kill());
    expect((await allocate(client)).cls).toBe(StunClass.SuccessResponse);
    const refreshed = await client.request(Method.Refresh, (b) => b.addUint32(AttributeType.Lifetime, 0));
    expect(refreshed.cls).toBe(StunClass.SuccessResponse);
    expect(server.engine.allocations.size).toBe(0);
    expect(service.sessions).toBe(0);
    expect(await client.exited).toBeDefined(); // the server's close_notify ends s_client
  });

  it('frees a session that never allocates, at max-allocate-timeout', async () => {
    let now = 1_000_000;
    const { service, address } = await startDtls({ maxAllocateTimeoutMs: 5_000 }, () => now);
    const client = OpensslDtlsClient.start('127.0.0.1', address.port);
    cleanups.push(() => client.kill());
    await client.request(Method.Binding);
    now += 5_000;
    service.sweep();
    expect(service.sessions).toBe(0);
  });
});

describe('certificates, suites and addresses', () => {
  it.each([
    ['P-256, AES-256-GCM-SHA384', null, 'ECDHE-ECDSA-AES256-GCM-SHA384'],
    ['RSA, AES-128-GCM', ['-newkey', 'rsa:2048'], 'ECDHE-RSA-AES128-GCM-SHA256'],
    ['RSA, AES-256-GCM-SHA384', ['-newkey', 'rsa:2048'], 'ECDHE-RSA-AES256-GCM-SHA384'],
    ['P-384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp384r1'], 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ])('serves a %s handshake', async (_what, keyArgs, cipher) => {
    const { address } = await startDtls({}, undefined, '127.0.0.1', keyArgs ? certificateOf(cleanups, keyArgs) : certificate);
    const client = OpensslDtlsClient.start('127.0.0.1', address.port, { cipher });
    cleanups.push(() => client.kill());
    expect((await client.request(Method.Binding)).cls).toBe(StunClass.SuccessResponse);
  });

  it('serves IPv6 clients on ::1', async () => {
    const { address } = await startDtls({}, undefined, '::1');
    const client = OpensslDtlsClient.start('[::1]', address.port);
    cleanups.push(() => client.kill());
    const answer = await client.request(Method.Binding);
    expect(readXorAddress(answer, AttributeType.XorMappedAddress)?.address).toBe('::1');
  });
});

describe('DTLS in the server', () => {
  async function startServer(cert = certificate) {
    const base = await testServerOptions();
    const server = await createTurnServer({ ...base, noDtls: false, tls: { ...base.tls, cert: cert.cert, pkey: cert.key } });
    cleanups.push(() => server.close());
    return server;
  }

  it('serves DTLS on both ports, and plain STUN on the TLS port', async () => {
    const server = await startServer();
    const [tlsPort] = server.listeners.dtlsAddresses;
    for (const port of [server.udpAddresses[0]!.port, tlsPort!.port]) {
      const client = OpensslDtlsClient.start('127.0.0.1', port);
      cleanups.push(() => client.kill());
      expect((await client.request(Method.Binding)).cls).toBe(StunClass.SuccessResponse);
    }
    await waitForUdpStun('127.0.0.1', tlsPort!.port, 5000); // plain STUN, same socket
  });

  it('is off without a certificate', async () => {
    const base = await testServerOptions();
    const server = await createTurnServer({ ...base, noDtls: false });
    cleanups.push(() => server.close());
    expect(server.listeners.dtls).toBeUndefined();
    expect(server.listeners.dtlsAddresses).toEqual([]);
  });

  it('reloads the certificate with TLS, and keeps the old one when the new one is bad', async () => {
    const mine = makeCertificate('before.example');
    const next = makeCertificate('after.example');
    cleanups.push(() => mine.remove());
    cleanups.push(() => next.remove());
    const server = await startServer(mine);
    const port = server.listeners.dtlsAddresses[0]!.port;
    // Asynchronously: the server answers from this same process.
    const servedName = async () => {
      const child = spawn('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${port}`], { stdio: ['pipe', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stdin.end();
      await new Promise((r) => child.once('close', r));
      return out.match(/subject=.*CN ?= ?([\w.]+)/)?.[1];
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
