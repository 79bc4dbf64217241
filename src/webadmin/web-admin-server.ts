/**
 * The web admin page (`web-admin`): HTTPS with the server's cert and pkey, or plain HTTP on
 * loopback (the configuration refuses anything else), on web-admin-ip:web-admin-port.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { DatabaseChoice } from '../admin/open-store.js';
import { isLoopback } from '../config/admin-options.js';
import { listenOnTcp } from '../control/admin-server.js';
import type { ServerControl } from '../control/server-control.js';
import type { TlsOptions, WebAdminOptions } from '../config/server-options.js';
import type { Logger } from '../log/logger-interface.js';
import { secureOptions } from '../net/tls-context.js';
import { formatTransportAddress } from '../stun/ip.js';
import type { LoginSources } from './log-in.js';
import { TrafficSampler } from './traffic-sampler.js';
import { UserDatabaseAdmin } from './user-database.js';
import type { ServerInfo } from './web-admin-api.js';
import { webAdminListener } from './web-admin-http.js';

export interface WebAdmin {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface WebAdminSetup {
  readonly options: WebAdminOptions;
  readonly tls: TlsOptions;
  /** The user database (SQLite, PostgreSQL, MySQL or Redis): admin users to log in with, and the users the page manages. */
  readonly userDb: DatabaseChoice | undefined;
  readonly control: ServerControl;
  serverInfo(): ServerInfo;
}

export async function startWebAdmin(setup: WebAdminSetup, logger: Logger): Promise<WebAdmin> {
  const { options } = setup;
  const sampler = new TrafficSampler(setup.control);
  const login: LoginSources = { token: options.token, userDb: setup.userDb };
  const listener = webAdminListener(
    { control: setup.control, sampler, userDb: setup.userDb === undefined ? undefined : new UserDatabaseAdmin(setup.userDb), serverInfo: setup.serverInfo },
    { secure: options.https, loopbackOnly: isLoopback(options.address), login },
    logger,
  );
  // The browser shows no client certificate: CA-file is for TURN clients, not for this page.
  const server: Server = options.https ? createHttpsServer({ ...secureOptions(setup.tls), requestCert: false, rejectUnauthorized: false }, listener) : createHttpServer(listener);
  server.on('error', (error) => logger.error(`web admin: ${error.message}`));
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 10_000;
  const port = await listenOnTcp(server, options.address, options.port).catch((error: Error) => {
    throw new Error(`web-admin: cannot listen on ${formatTransportAddress({ address: options.address, port: options.port })}: ${error.message}`);
  });
  const url = `${options.https ? 'https' : 'http'}://${formatTransportAddress({ address: options.address, port })}/`;
  sampler.start();
  logger.info(`web admin at ${url}`);
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        sampler.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
