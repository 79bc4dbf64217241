/**
 * The HTTP side of the metrics: GET the configured path for the exposition text, GET / for
 * a health check ("ok", as coturn answers), 404 elsewhere, 405 for other methods.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface MetricsEndpointOptions {
  readonly address: string;
  readonly port: number;
  readonly path: string;
}

export interface Exposition {
  readonly contentType: string;
  render(): Promise<string>;
}

export interface MetricsEndpoint {
  /** Where it listens (the port resolved when 0 was asked). */
  readonly address: string;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

function answer(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  const body = Buffer.from(text);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': body.length });
  res.end(body);
}

function handler(options: MetricsEndpointOptions, exposition: Exposition, onError: (e: unknown) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'method not allowed\n');
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === options.path) {
      exposition.render().then(
        (text) => answer(res, 200, text, exposition.contentType),
        (error: unknown) => {
          onError(error);
          answer(res, 500, 'metrics unavailable\n');
        },
      );
      return;
    }
    if (path === '/') return answer(res, 200, 'ok\n');
    answer(res, 404, 'not found\n');
  };
}

export async function startMetricsEndpoint(
  options: MetricsEndpointOptions,
  exposition: Exposition,
  onError: (error: unknown) => void,
): Promise<MetricsEndpoint> {
  const server: Server = createServer(handler(options, exposition, onError));
  // A scraper that keeps its connection open must not hold shutdown up for long.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.address, port: options.port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', onError);
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : options.port;
  const host = options.address.includes(':') ? `[${options.address}]` : options.address;
  let closed: Promise<void> | undefined;
  return {
    address: options.address,
    port,
    url: `http://${host}:${port}${options.path}`,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
