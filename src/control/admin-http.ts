/**
 * The admin interface's HTTP side, the same over the Unix socket and over TCP: authorize,
 * read the JSON body, route, answer JSON, and log every request: refusals at warn, changes
 * and failures at info (an audit trail), reads at debug.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../log/logger-interface.js';
import type { ErrorBody } from './api.js';
import { changesState, routeAdminRequest, type AdminResponse } from './admin-routes.js';
import type { ServerControl } from './server-control.js';

/** Admin bodies are a few words of JSON; anything bigger is not from `turnpike admin`. */
const MAX_BODY_BYTES = 16 * 1024;

export interface AdminHttpOptions {
  /** Who asked, for the log: `unix socket`, or the HTTP client's address. */
  describeClient(req: IncomingMessage): string;
  /** False: 401. Absent: every request is authorized (the socket's file mode decides). */
  authorize?(req: IncomingMessage): boolean;
}

export function adminRequestListener(control: ServerControl, logger: Logger, options: AdminHttpOptions): RequestListener {
  // Nothing a client sends may take the server down: whatever escapes is logged and answered 500.
  return (req, res) =>
    void handle(control, logger, options, req, res).catch((error: unknown) => {
      logger.error(`admin request failed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent) answer(res, { status: 500, body: { error: 'internal error (see the server log)' } });
      else res.destroy();
    });
}

/** The request's URL; `//` and other odd targets are a 400, not an exception. */
function parseTarget(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://admin');
  } catch {
    return undefined;
  }
}

async function handle(control: ServerControl, logger: Logger, options: AdminHttpOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = parseTarget(req.url);
  if (!url) {
    res.shouldKeepAlive = false;
    return answer(res, { status: 400, body: { error: 'not a request target' } satisfies ErrorBody });
  }
  const method = req.method ?? 'GET';
  const what = `admin request from ${options.describeClient(req)}: ${method} ${url.pathname}`;
  if (options.authorize && !options.authorize(req)) {
    logger.warn(`${what} -> 401 (missing or wrong token)`);
    // Its body is not read: close the connection after the answer rather than drain it.
    res.shouldKeepAlive = false;
    return answer(res, { status: 401, body: { error: 'missing or wrong admin token' } satisfies ErrorBody });
  }
  let body: unknown;
  let response: AdminResponse;
  try {
    body = await readJsonBody(req);
    response = await routeAdminRequest(control, { method, path: url.pathname, query: url.searchParams, body });
  } catch (error) {
    if (error instanceof BodyError) response = error.response;
    else {
      logger.error(`${what}: ${error instanceof Error ? error.stack : String(error)}`);
      response = { status: 500, body: { error: 'internal error (see the server log)' } };
    }
    res.shouldKeepAlive = false;
  }
  const line = `${what}${body === undefined ? '' : ` ${JSON.stringify(body)}`} -> ${response.status}`;
  if (changesState(method) || response.status >= 400) logger.info(line);
  else logger.debug(line);
  answer(res, response);
}

/** A body the server will not read: its answer. */
export class BodyError extends Error {
  constructor(readonly response: AdminResponse) {
    super(`admin request body refused with ${response.status}`);
  }
}

/** The request's JSON body (undefined when empty); BodyError past MAX_BODY_BYTES or when not JSON. */
export function readJsonBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.removeAllListeners('data');
      req.resume();
      reject(new BodyError({ status: 413, body: { error: `admin request bodies are at most ${MAX_BODY_BYTES} bytes` } }));
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new BodyError({ status: 400, body: { error: 'the request body is not JSON' } }));
      }
    });
  });
}

function answer(res: ServerResponse, { status, body }: AdminResponse): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}
