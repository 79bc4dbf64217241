// CA-file: with it set, a TLS client must present a certificate that CA signed; without it,
// or with another, the handshake fails and nothing is answered.
import fs from 'node:fs';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { MessageBuilder, Method, StunClass, decodeMessage } from '../../src/stun/index.js';
import type { TurnServer } from '../../src/server.js';
import { makeCertificate, type TestCertificate } from '../support/certs.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { testServerOptions } from '../support/server-options.js';

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
async function bindingAnswered(server: TurnServer, client?: TestCertificate): Promise<boolean> {
  const { address, port } = server.streamAddresses[0]!;
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
