// CA-file: with it set, a TLS or DTLS client must present a certificate that CA signed;
// without one, or with another, the handshake fails and nothing is answered. A reload cannot
// change it: the running server says so and keeps serving as it started, TLS and DTLS alike.
import fs from 'node:fs';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { MessageBuilder, Method, StunClass, decodeMessage } from '../../src/stun/index.js';
import type { TurnServer } from '../../src/server.js';
import { issueCertificate, makeCertificate, type TestCertificate } from '../support/certs.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { freePortRange, freeUdpTcpPort } from '../support/ports.js';
import { testServerOptions } from '../support/server-options.js';
import { reloadFromFile, startTurnpikeFromFile, type TurnpikeFromFile } from '../support/turnpike-process.js';
import { OpensslDtlsClient } from '../unit/dtls/openssl-dtls-client.js';

const cleanups = cleanupAfterEach();
const serverCertificate = makeCertificate('turn.test');
/** The CA-file: the CA that issued the trusted client's certificate. */
const clientCa = makeCertificate('client-ca');
const trusted = issueCertificate(clientCa, 'trusted-client');
/** Self-signed: no CA-file holds it. */
const stranger = makeCertificate('unknown-client');
afterAll(() => [serverCertificate, clientCa, trusted, stranger].forEach((c) => c.remove()));

async function requireClientCertificates(): Promise<TurnServer> {
  const base = await testServerOptions();
  return startInProcessServer(cleanups, {
    noTcp: false,
    noTls: false,
    noDtls: false,
    tls: { ...base.tls, cert: serverCertificate.cert, pkey: serverCertificate.key, caFile: clientCa.cert },
  });
}

type Endpoint = { address: string; port: number };

/** A TLS connection (presenting `client`'s certificate when given) and one Binding: true when answered. */
async function bindingAnswered(server: TurnServer | Endpoint, client?: TestCertificate): Promise<boolean> {
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

/**
 * A DTLS handshake by OpenSSL's s_client (presenting `client`'s certificate when given) and one
 * Binding: true when answered, false when the handshake fails (s_client exits on the alert).
 */
async function dtlsBindingAnswered(server: TurnServer | Endpoint, client?: TestCertificate): Promise<boolean> {
  const { address, port } = 'udpAddresses' in server ? server.udpAddresses[0]! : server;
  const dtls = OpensslDtlsClient.start(address, port, { certificate: client });
  cleanups.push(() => dtls.kill());
  const answered = dtls.request(Method.Binding).then((answer) => answer.cls === StunClass.SuccessResponse, () => false);
  return Promise.race([answered, dtls.exited.then(() => false)]);
}

describe.each([
  ['TLS', bindingAnswered],
  ['DTLS', dtlsBindingAnswered],
])('CA-file: client certificates over %s', (_transport, answered) => {
  it('serves a client whose certificate the CA signed', async () => {
    expect(await answered(await requireClientCertificates(), trusted)).toBe(true);
  });

  it('refuses a client with no certificate, or one the CA did not sign', async () => {
    const server = await requireClientCertificates();
    expect(await answered(server)).toBe(false);
    expect(await answered(server, stranger)).toBe(false);
    // The refusals cost the server nothing lasting: a good client is served after them.
    expect(await answered(server, trusted)).toBe(true);
  });

  it('serves a client with an RSA key (RSA-PSS CertificateVerify) the CA signed', async () => {
    const rsa = issueCertificate(clientCa, 'rsa-client', { rsa: true });
    cleanups.push(() => rsa.remove());
    expect(await answered(await requireClientCertificates(), rsa)).toBe(true);
  });
});

const HOST = '127.0.0.1';

/** A real process started with `-c` on a file with a certificate, and `extra` lines. */
async function serveTlsFromFile(extra: string[]): Promise<TurnpikeFromFile & { tls: Endpoint }> {
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

describe('CA-file on reload (SIGHUP)', () => {
  it('added: kept until a restart, as the log says, and TLS and DTLS serve on as they started', async () => {
    const served = await serveTlsFromFile([]);
    expect(await bindingAnswered(served.tls)).toBe(true);
    expect(await dtlsBindingAnswered(served.tls)).toBe(true);

    await reloadFromFile(served, [...served.lines, `CA-file=${clientCa.cert}`], CA_FILE_KEPT);
    expect(await bindingAnswered(served.tls)).toBe(true);
    expect(await dtlsBindingAnswered(served.tls)).toBe(true);
  });

  it('removed: kept until a restart, and clients without a certificate the CA signed are still refused', async () => {
    const served = await serveTlsFromFile([`CA-file=${clientCa.cert}`]);
    expect(await dtlsBindingAnswered(served.tls)).toBe(false);
    expect(await dtlsBindingAnswered(served.tls, trusted)).toBe(true);

    await reloadFromFile(served, served.lines.filter((line) => !line.startsWith('CA-file=')), CA_FILE_KEPT);
    for (const answered of [bindingAnswered, dtlsBindingAnswered]) {
      expect(await answered(served.tls)).toBe(false);
      expect(await answered(served.tls, stranger)).toBe(false);
      expect(await answered(served.tls, trusted)).toBe(true);
    }
  });
});
