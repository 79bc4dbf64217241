/**
 * The self-test page's HTTP server (not in coturn): GET / is the page, GET /credentials mints
 * fresh REST credentials when the server has a secret. Off unless configured, and meant for
 * localhost: /credentials hands out working TURN credentials to whoever can reach it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { Logger } from '../log/logger-interface.js';
import { CONTENT_SECURITY_POLICY, renderPage, type PageConfig } from './page-html.js';

export interface SelfTestCredentials {
  readonly username: string;
  readonly password: string;
}

export interface SelfTestPageConfig {
  /** Where the page listens: loopback unless the operator means otherwise. */
  readonly address: string;
  /** 0 lets the OS choose. */
  readonly port: number;
  /** The TURN server's name or address as browsers reach it (and as its certificate names it, for TLS). */
  readonly turnHost: string;
  /** Each transport is tested only when its port is given. */
  readonly udpPort?: number;
  readonly tcpPort?: number;
  readonly tlsPort?: number;
  /** Fresh credentials per run; without it the operator types them in. */
  readonly mintCredentials?: () => SelfTestCredentials;
}

export interface SelfTestPage {
  readonly address: string;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

const silent: Logger = { error() {}, warn() {}, info() {}, verbose() {}, debug() {} };

const hostForUrl = (host: string) => (net.isIPv6(host) ? `[${host}]` : host);

export function pageConfigOf(config: SelfTestPageConfig): PageConfig {
  const host = hostForUrl(config.turnHost);
  const urls: Record<string, string> = {};
  if (config.udpPort !== undefined) urls.udp = `turn:${host}:${config.udpPort}?transport=udp`;
  if (config.tcpPort !== undefined) urls.tcp = `turn:${host}:${config.tcpPort}?transport=tcp`;
  if (config.tlsPort !== undefined) urls.tls = `turns:${host}:${config.tlsPort}?transport=tcp`;
  return { urls, canMint: config.mintCredentials !== undefined };
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || (net.isIPv4(h) && h.startsWith('127.'));
}

/** The host name in a Host header, without its port. */
function hostName(header: string | undefined): string {
  if (!header) return '';
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  return header.split(':', 1)[0] ?? '';
}

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

function answer(res: ServerResponse, status: number, body: string, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, ...extra, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function handler(config: SelfTestPageConfig, html: string, logger: Logger) {
  const loopbackOnly = isLoopback(config.address);
  const text = 'text/plain; charset=utf-8';
  return (req: IncomingMessage, res: ServerResponse): void => {
    // On loopback, a page from elsewhere could reach us by DNS rebinding: only loopback names pass.
    if (loopbackOnly && !isLoopback(hostName(req.headers.host))) return answer(res, 421, 'misdirected request\n', text);
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'method not allowed\n', text, { Allow: 'GET, HEAD' });
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/') {
      return answer(res, 200, html, 'text/html; charset=utf-8', { 'Content-Security-Policy': CONTENT_SECURITY_POLICY });
    }
    if (path === '/credentials' && config.mintCredentials) {
      try {
        const { username, password } = config.mintCredentials();
        logger.debug(`self-test page: minted credentials for ${username}`);
        return answer(res, 200, JSON.stringify({ username, password }), 'application/json');
      } catch (error) {
        logger.error(`self-test page: cannot mint credentials: ${(error as Error).message}`);
        return answer(res, 500, 'cannot mint credentials\n', text);
      }
    }
    answer(res, 404, 'not found\n', text);
  };
}

export async function startSelfTestPage(config: SelfTestPageConfig, logger: Logger = silent): Promise<SelfTestPage> {
  const html = renderPage(pageConfigOf(config));
  const server = createServer(handler(config, html, logger));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: config.address, port: config.port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error(`self-test page: ${error.message}`));
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : config.port;
  const url = `http://${hostForUrl(config.address)}:${port}/`;
  logger.info(`self-test page on ${url}`);
  if (!isLoopback(config.address) && config.mintCredentials) {
    logger.warn(`self-test page on ${config.address} hands out TURN credentials to anyone who reaches it`);
  }
  let closed: Promise<void> | undefined;
  return {
    address: config.address,
    port,
    url,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
