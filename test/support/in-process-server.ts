// A server in the test's own process, on loopback with ports from the OS (testServerOptions).
import type { ServerOptions } from '../../src/config/server-options.js';
import { createTurnServer, type TurnServer } from '../../src/server.js';
import type { Logger } from '../../src/log/logger-interface.js';
import type { TestCertificate } from './certs.js';
import type { Cleanups } from './cleanups.js';
import { testServerOptions } from './server-options.js';

/** Starts it with `overrides`; it is closed after the test. */
export async function startInProcessServer(cleanups: Cleanups, overrides: Partial<ServerOptions> = {}, logger?: Logger): Promise<TurnServer> {
  const server = await createTurnServer(await testServerOptions(overrides), logger);
  cleanups.push(() => server.close());
  return server;
}

/** Starts one with TCP and TLS on, serving `certificate`, then `overrides`; closed after the test. */
export async function startInProcessTlsServer(cleanups: Cleanups, certificate: TestCertificate, overrides: Partial<ServerOptions> = {}): Promise<TurnServer> {
  const base = await testServerOptions();
  const tls = { ...base.tls, cert: certificate.cert, pkey: certificate.key };
  const server = await createTurnServer({ ...base, noTcp: false, noTls: false, tls, ...overrides });
  cleanups.push(() => server.close());
  return server;
}
