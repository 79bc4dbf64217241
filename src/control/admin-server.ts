/**
 * The admin interface `turnpike admin` talks to: HTTP with JSON (api.ts) on a Unix socket
 * (`admin-socket`, mode 0600, no token) and/or on TCP (`admin-port` on `admin-ip`, loopback by
 * default, with a bearer token). Off unless one of them is configured.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AdminOptions } from '../config/server-options.js';
import { formatTransportAddress } from '../stun/ip.js';
import type { Logger } from '../log/logger-interface.js';
import { adminRequestListener } from './admin-http.js';
import { bearerTokenMatches } from './bearer-token.js';
import type { ServerControl } from './server-control.js';
import { listenOnUnixSocket } from './unix-socket.js';

export interface AdminInterface {
  /** The Unix socket, when `admin-socket` is set. */
  readonly socketPath: string | undefined;
  /** `http://address:port`, when `admin-port` is set (the port resolved when 0 was asked). */
  readonly url: string | undefined;
  /** The TCP port of `url`. */
  readonly port: number | undefined;
  close(): Promise<void>;
}

/** Starts what the options ask for; throws (with nothing left listening) when it cannot. */
export async function startAdminInterface(options: AdminOptions | undefined, control: ServerControl, logger: Logger): Promise<AdminInterface> {
  const servers: Server[] = [];
  const close = () => Promise.all(servers.map(closeServer)).then(() => undefined);
  try {
    let url: string | undefined;
    let port: number | undefined;
    if (options?.socket !== undefined) {
      const server = adminServer(adminRequestListener(control, logger, { describeClient: () => 'unix socket' }), logger);
      servers.push(server);
      await listenOnUnixSocket(server, options.socket).catch((error: Error) => {
        throw new Error(`admin-socket ${options.socket}: ${error.message}`);
      });
      logger.info(`admin interface on unix socket ${options.socket} (mode 0600)`);
    }
    if (options?.http !== undefined) {
      const { address, port: asked, token } = options.http;
      const server = adminServer(
        adminRequestListener(control, logger, {
          describeClient: (req) => formatTransportAddress({ address: req.socket.remoteAddress ?? '?', port: req.socket.remotePort ?? 0 }),
          authorize: (req) => bearerTokenMatches(req.headers.authorization, token),
        }),
        logger,
      );
      servers.push(server);
      port = await listenOnTcp(server, address, asked).catch((error: Error) => {
        throw new Error(`admin-port: cannot listen on ${formatTransportAddress({ address, port: asked })}: ${error.message}`);
      });
      url = `http://${formatTransportAddress({ address, port })}`;
      logger.info(`admin interface at ${url} (bearer token)`);
    }
    return { socketPath: options?.socket, url, port, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function adminServer(listener: RequestListener, logger: Logger): Server {
  const server = createServer(listener);
  // Once listening, an accept error (EMFILE…) is logged; unhandled it would end the process.
  server.on('error', (error) => logger.error(`admin interface: ${error.message}`));
  // A client that keeps its connection open must not hold shutdown up for long.
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 10_000;
  return server;
}

/** Listens on host:port (0: the OS chooses) and resolves with the port bound. */
export function listenOnTcp(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound ? bound.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
