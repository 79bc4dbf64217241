// native/tls-stream.c keeps no server-side TLS session cache, as Node's tls.Server keeps none
// (it asks for SSL_SESS_CACHE_NO_INTERNAL): OpenSSL's default cache holds up to 20,480
// sessions per SSL_CTX and thread, one per TLS 1.2 client without tickets, and offers the
// session-ID resumption Node's path never did. Tickets still resume.
import crypto from 'node:crypto';
import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTurnServer, type TurnServer } from '../../src/server.js';
import { MessageBuilder, Method, StunClass } from '../../src/stun/index.js';
import { nativeTls } from '../../src/net/native-tls.js';
import { makeCertificate, type TestCertificate } from '../support/certs.js';
import { testServerOptions } from '../support/server-options.js';
import { cleanupAfterEach } from '../support/cleanups.js';

let certificate: TestCertificate;
beforeAll(() => {
  certificate = makeCertificate();
});
afterAll(() => certificate.remove());
const cleanups = cleanupAfterEach();

function adopted(): number {
  const native = nativeTls();
  if (!('tls' in native)) throw new Error(`native TLS unavailable: ${native.unavailable}`);
  return native.tls.stats.adopted;
}

/** A TLS 1.2 handshake and a Binding answered: the session to offer next, and whether this one was resumed. */
function connect(server: TurnServer, options: tls.ConnectionOptions): Promise<{ session: Buffer; reused: boolean }> {
  const { address, port } = server.streamAddresses[1]!;
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: address, port, rejectUnauthorized: false, ALPNProtocols: ['stun.turn'], maxVersion: 'TLSv1.2', ...options });
    socket.once('secureConnect', () => socket.write(new MessageBuilder(Method.Binding, StunClass.Request).build()));
    socket.once('data', () => {
      const result = { session: socket.getSession()!, reused: socket.isSessionReused() };
      socket.end();
      socket.once('close', () => resolve(result));
    });
    socket.once('error', reject);
  });
}

it.runIf(process.platform === 'linux')('resumes no TLS 1.2 session by its ID (no cache), and still one by its ticket', async () => {
  const base = await testServerOptions();
  const server = await createTurnServer({ ...base, noTcp: false, noTls: false, tls: { ...base.tls, cert: certificate.cert, pkey: certificate.key } });
  cleanups.push(() => server.close());
  const before = adopted();
  const byId = { secureOptions: crypto.constants.SSL_OP_NO_TICKET };
  const first = await connect(server, byId);
  expect((await connect(server, { ...byId, session: first.session })).reused).toBe(false);
  const ticketed = await connect(server, {});
  expect((await connect(server, { session: ticketed.session })).reused).toBe(true);
  expect(adopted()).toBe(before + 4);
});
