/**
 * The web admin page's HTTP side: the page and its script, login and logout, and the JSON
 * API behind a login cookie. Changes need the session's CSRF token in a header (which another
 * site's form or fetch cannot set without CORS) and a JSON body no larger than the admin
 * interface takes. Logins, refusals and changes are logged at info or warn, reads at debug.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { isLoopback } from '../config/admin-options.js';
import { BodyError, readJsonBody } from '../control/admin-http.js';
import type { AdminResponse } from '../control/admin-routes.js';
import type { Logger } from '../log/logger-interface.js';
import { formatTransportAddress } from '../stun/ip.js';
import { logIn, loginForm, type LoginSources } from './log-in.js';
import { LoginSessions, sessionCookie, type LoginSession } from './login-sessions.js';
import { LoginThrottle } from './login-throttle.js';
import { PAGE_ASSETS, SECURITY_HEADERS } from './page/assets.js';
import { routeApiRequest, type WebAdminContext } from './web-admin-api.js';

export interface WebAdminHttpOptions {
  readonly secure: boolean;
  /** Bound to loopback: a request from any other address is refused. */
  readonly loopbackOnly: boolean;
  readonly login: LoginSources;
}

export const CSRF_HEADER = 'x-csrf-token';

export function webAdminListener(context: WebAdminContext, options: WebAdminHttpOptions, logger: Logger): RequestListener {
  const sessions = new LoginSessions();
  const throttle = new LoginThrottle();
  return (req, res) =>
    void handle(context, options, { sessions, throttle }, logger, req, res).catch((error: unknown) => {
      logger.error(`web admin request failed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent) json(res, { status: 500, body: { error: 'internal error (see the server log)' } });
      else res.destroy();
    });
}

async function handle(
  context: WebAdminContext,
  options: WebAdminHttpOptions,
  { sessions, throttle }: { sessions: LoginSessions; throttle: LoginThrottle },
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const client = formatTransportAddress({ address: req.socket.remoteAddress ?? '?', port: req.socket.remotePort ?? 0 });
  const method = req.method ?? 'GET';
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://admin');
  } catch {
    return json(res, { status: 400, body: { error: 'not a request target' } });
  }
  const what = `web admin request from ${client}: ${method} ${url.pathname}`;
  if (options.loopbackOnly && !isLoopback(req.socket.remoteAddress ?? '')) {
    logger.warn(`${what} -> 403 (not from loopback)`);
    return json(res, { status: 403, body: { error: 'the web admin answers loopback addresses only' } });
  }
  const asset = method === 'GET' ? PAGE_ASSETS.get(url.pathname) : undefined;
  if (asset) return send(res, 200, asset.body, asset.type);

  if (options.loopbackOnly && !isLocalHost(req.headers.host)) {
    // A page elsewhere whose name was pointed at 127.0.0.1 (DNS rebinding) has no business here.
    logger.warn(`${what} -> 403 (Host ${req.headers.host ?? 'missing'})`);
    return json(res, { status: 403, body: { error: 'open the web admin by address (127.0.0.1) or as localhost' } });
  }
  const session = sessions.find(req.headers.cookie);
  if (url.pathname === '/login' && method === 'POST') {
    const form = loginForm(await readBody(req, res));
    if (res.writableEnded) return;
    if (!form) return json(res, { status: 400, body: { error: 'give the admin token, or an admin user name and password' } });
    const address = req.socket.remoteAddress ?? '?';
    if (!throttle.allows(address)) {
      logger.warn(`${what} -> 429 (too many failed logins)`);
      return json(res, { status: 429, body: { error: 'too many failed logins from this address: wait a minute' } });
    }
    const principal = await logIn(form, options.login);
    if (!principal) {
      throttle.failed(address);
      logger.warn(`${what} -> 401 (wrong ${'token' in form ? 'admin token' : `password or no admin user "${form.user}"`})`);
      return json(res, { status: 401, body: { error: 'wrong token, user name or password' } });
    }
    const opened = sessions.open(principal);
    logger.info(`${what}: ${principal.name}${principal.realm === '' ? '' : ` (realm ${principal.realm})`} logged in`);
    return json(res, { status: 200, body: me(opened) }, { 'Set-Cookie': sessionCookie(opened.id, options.secure) });
  }
  if (!session) return json(res, { status: 401, body: { error: 'log in first' } });
  if (url.pathname === '/logout' && method === 'POST') {
    sessions.close(session.id);
    return json(res, { status: 200, body: {} }, { 'Set-Cookie': sessionCookie('', options.secure) });
  }
  if (url.pathname === '/api/me') return json(res, { status: 200, body: me(session) });
  if (method !== 'GET' && req.headers[CSRF_HEADER] !== session.csrf) {
    logger.warn(`${what} -> 403 (no CSRF token)`);
    return json(res, { status: 403, body: { error: 'missing CSRF token: reload the page' } });
  }
  const body = await readBody(req, res);
  if (res.writableEnded) return;
  const response = await routeApiRequest(context, { method, path: url.pathname, query: url.searchParams, body, principal: session.principal });
  const line = `${what} by ${session.principal.name}${method === 'GET' || body === undefined ? '' : ` ${JSON.stringify(redacted(body))}`} -> ${response.status}`;
  if (method !== 'GET' || response.status >= 400) logger.info(line);
  else logger.debug(line);
  json(res, response);
}

/** `localhost` or an IP address, with or without a port. */
function isLocalHost(host: string | undefined): boolean {
  const name = (host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return name === 'localhost' || isIP(name) !== 0;
}

const me = (session: LoginSession) => ({ name: session.principal.name, realm: session.principal.realm, csrf: session.csrf });

/** Passwords and secrets stay out of the audit log. */
function redacted(body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return body;
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, k === 'password' || k === 'secret' ? '…' : v]));
}

/** The JSON body, or undefined with the refusal already answered (too large, not JSON). */
async function readBody(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  try {
    return await readJsonBody(req);
  } catch (error) {
    if (!(error instanceof BodyError)) throw error;
    res.shouldKeepAlive = false;
    json(res, error.response);
    return undefined;
  }
}

function json(res: ServerResponse, { status, body }: AdminResponse, extra: Record<string, string> = {}): void {
  send(res, status, `${JSON.stringify(body)}\n`, 'application/json; charset=utf-8', extra);
}

function send(res: ServerResponse, status: number, body: string, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...extra });
  res.end(body);
}
