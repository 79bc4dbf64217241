// CA-file: with it set, a TLS client must present a certificate that CA signed; without it,
// or with another, the handshake fails and nothing is answered. A reload cannot change it:
// the running server says so and keeps serving as it started.
import dgram from 'node:dgram';
import fs from 'node:fs';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { MessageBuilder, Method, StunClass, decodeMessage } from '../../src/stun/index.js';
import type { TurnServer } from '../../src/server.js';
import { makeCertificate, type TestCertificate } from '../support/certs.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { freePortRange, freeUdpTcpPort } from '../support/ports.js';
import { testServerOptions } from '../support/server-options.js';
import { reloadFromFile, startTurnpikeFromFile, type TurnpikeFromFile } from '../support/turnpike-process.js';
import { clientHelloDatagram, helloVerifyCookie } from '../unit/dtls/client-hello.js';

const cleanups = cleanupAfterEach();
const serverCertificate = makeCertificate('turn.test');
/** Self-signed: the client's certificate is its own CA, and the server's CA-file. */
const trusted = makeCertificate('trusted-client');
const stranger = makeCertificate('unknown-client');
afterAll(() => [serverCertificate, trusted, stranger].forEach((c) => c.remove()));

async function requireClientCertificates(): Promise<TurnServer> {
  const base = await testServerOptions();
  return startInProcessServer(cleanups, {
    noTcp: false,
    noTls: false,
    tls: { ...base.tls, cert: serverCertificate.cert, pkey: serverCertificate.key, caFile: trusted.cert },
  });
}

/** A TLS connection (presenting `client`'s certificate when given) and one Binding: true when answered. */
async function bindingAnswered(server: TurnServer | { address: string; port: number }, client?: TestCertificate): Promise<boolean> {
  const { address, port } = 'streamAddresses' in server ? server.streamAddresses[0]! : server;
  const identity = client ? { cert: fs.readFileSync(client.cert), key: fs.readFileSync(client.key) } : {};
  const socket = tls.connect({ host: address, port, rejectUnauthorized: false, ...identity });
  cleanups.push(() => void socket.destroy());
  return new Promise((resolve) => {
    socket.once('secureConnect', () => socket.write(new MessageBuilder(Method.Binding, StunClass.Request).build()));
    socket.once('data', (data: Buffer) => resolve(decodeMessage(data).cls === StunClass.SuccessResponse));
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

describe('CA-file (TLS client certificates)', () => {
  it('serves a client whose certificate the CA signed', async () => {
    expect(await bindingAnswered(await requireClientCertificates(), trusted)).toBe(true);
  });

  it('refuses a client with no certificate, or one the CA did not sign', async () => {
    const server = await requireClientCertificates();
    expect(await bindingAnswered(server)).toBe(false);
    expect(await bindingAnswered(server, stranger)).toBe(false);
    // The refusals cost the server nothing lasting: a good client is served after them.
    expect(await bindingAnswered(server, trusted)).toBe(true);
  });
});

const HOST = '127.0.0.1';

/** A real process started with `-c` on a file with a certificate, and `extra` lines. */
async function serveTlsFromFile(extra: string[]): Promise<TurnpikeFromFile & { tls: { address: string; port: number } }> {
  const port = await freeUdpTcpPort(HOST);
  const tlsPort = await freeUdpTcpPort(HOST);
  const minPort = await freePortRange(HOST, 10);
  const lines = [
    `listening-ip=${HOST}`, `listening-port=${port}`, `tls-listening-port=${tlsPort}`, `relay-ip=${HOST}`,
    `min-port=${minPort}`, `max-port=${minPort + 9}`, `cert=${serverCertificate.cert}`, `pkey=${serverCertificate.key}`, ...extra,
  ];
  // tls-listening-port: TLS over TCP, and DTLS over UDP when it is served.
  return { ...(await startTurnpikeFromFile(cleanups, lines, HOST, port)), tls: { address: HOST, port: tlsPort } };
}

/** What the log says of a reload that changed CA-file alone. */
const CA_FILE_KEPT = /configuration reloaded: nothing changed\n.*WARN: changed but kept until a restart: CA-file\n/;

/**
 * A DTLS ClientHello to tls-listening-port: true when a HelloVerifyRequest comes back, false
 * when the port is closed (no DTLS: nothing listens on UDP there, and the ICMP error arrives).
 */
async function dtlsAnswered(to: { address: string; port: number }): Promise<boolean> {
  const socket = dgram.createSocket('udp4');
  cleanups.push(() => void socket.close());
  await new Promise<void>((resolve) => socket.connect(to.port, to.address, resolve));
  return new Promise((resolve) => {
    socket.on('message', (data) => resolve(helloVerifyCookie(data) !== undefined));
    socket.once('error', () => resolve(false));
    socket.send(clientHelloDatagram());
  });
}

describe('CA-file on reload (SIGHUP)', () => {
  it('added: kept until a restart, as the log says, and TLS and DTLS serve on as they started', async () => {
    const served = await serveTlsFromFile([]);
    expect(await bindingAnswered(served.tls)).toBe(true);
    expect(await dtlsAnswered(served.tls)).toBe(true);

    await reloadFromFile(served, [...served.lines, `CA-file=${trusted.cert}`], CA_FILE_KEPT);
    expect(await bindingAnswered(served.tls)).toBe(true);
    expect(await dtlsAnswered(served.tls)).toBe(true);
  });

  it('removed: kept until a restart, and clients without a certificate the CA signed are still refused', async () => {
    const served = await serveTlsFromFile([`CA-file=${trusted.cert}`]);
    expect(await dtlsAnswered(served.tls)).toBe(false);

    await reloadFromFile(served, served.lines.filter((line) => !line.startsWith('CA-file=')), CA_FILE_KEPT);
    expect(await bindingAnswered(served.tls)).toBe(false);
    expect(await bindingAnswered(served.tls, stranger)).toBe(false);
    expect(await bindingAnswered(served.tls, trusted)).toBe(true);
    expect(await dtlsAnswered(served.tls)).toBe(false);
  });
});
