// A server in the test's own process, on loopback with ports from the OS (testServerOptions).
import type { ServerOptions } from '../../src/config/server-options.js';
import { createTurnServer, type TurnServer } from '../../src/server.js';
import type { Logger } from '../../src/log/logger-interface.js';
import type { Cleanups } from './cleanups.js';
import { testServerOptions } from './server-options.js';

/** Starts it with `overrides`; it is closed after the test. */
export async function startInProcessServer(cleanups: Cleanups, overrides: Partial<ServerOptions> = {}, logger?: Logger): Promise<TurnServer> {
  const server = await createTurnServer(await testServerOptions(overrides), logger);
  cleanups.push(() => server.close());
  return server;
}
