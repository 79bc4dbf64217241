/**
 * `turnpike admin`'s side of the admin interface: ServerControl's calls, made over HTTP to a
 * running server on its Unix socket or its loopback port. Failures are AdminErrors whose
 * message says what to do (start the server, fix the token, run as the server's user).
 */
import http from 'node:http';
import { AdminError } from '../admin/errors.js';
import type { LogLevel } from '../config/server-options.js';
import { ADMIN_PATHS, type DisconnectResult, type ErrorBody, type LogLevelBody } from './api.js';
import type { DrainReport, ReloadReport, ServerControl, SessionReport } from './server-control.js';

export type AdminEndpoint =
  | { readonly kind: 'socket'; readonly path: string }
  | { readonly kind: 'http'; readonly url: URL; readonly token: string };

export function describeEndpoint(endpoint: AdminEndpoint): string {
  return endpoint.kind === 'socket' ? `unix socket ${endpoint.path}` : endpoint.url.origin;
}

/** ServerControl with every answer over the wire. */
type Remote<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never };

const CONNECT_HINTS: Readonly<Record<string, string>> = {
  ENOENT: 'no such socket: is the server running, with admin-socket set?',
  ECONNREFUSED: 'nothing listens there: is the server running?',
  EACCES: "permission denied: the socket is mode 0600, run this as the server's user",
};

export class AdminClient implements Remote<ServerControl> {
  constructor(
    readonly endpoint: AdminEndpoint,
    private readonly timeoutMs = 10_000,
  ) {}

  sessions(filter?: { readonly user?: string }): Promise<SessionReport[]> {
    const query = filter?.user === undefined ? '' : `?${new URLSearchParams({ user: filter.user })}`;
    return this.call('GET', `${ADMIN_PATHS.sessions}${query}`);
  }

  async disconnect(target: { readonly id: number } | { readonly user: string }): Promise<number> {
    return (await this.call<DisconnectResult>('POST', ADMIN_PATHS.disconnect, target)).disconnected;
  }

  reload(): Promise<ReloadReport> {
    return this.call('POST', ADMIN_PATHS.reload);
  }

  drain(): Promise<DrainReport> {
    return this.call('POST', ADMIN_PATHS.drain);
  }

  stats(): Promise<Record<string, number>> {
    return this.call('GET', ADMIN_PATHS.stats);
  }

  async logLevel(): Promise<LogLevel> {
    return (await this.call<LogLevelBody>('GET', ADMIN_PATHS.loglevel)).level;
  }

  async setLogLevel(level: LogLevel): Promise<void> {
    await this.call<LogLevelBody>('PUT', ADMIN_PATHS.loglevel, { level } satisfies LogLevelBody);
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { Accept: 'application/json' };
    if (text !== undefined) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    const where = this.endpoint.kind === 'socket' ? { socketPath: this.endpoint.path } : this.tcpTarget(headers);
    return new Promise<T>((resolve, reject) => {
      const request = http.request({ ...where, path, method, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => reject(this.unreachable(error)));
        response.on('end', () => {
          try {
            resolve(this.parse<T>(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
          } catch (error) {
            reject(error);
          }
        });
      });
      request.setTimeout(this.timeoutMs, () => request.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)));
      request.on('error', (error) => reject(this.unreachable(error)));
      request.end(text);
    });
  }

  private tcpTarget(headers: http.OutgoingHttpHeaders): http.RequestOptions {
    if (this.endpoint.kind !== 'http') throw new TypeError('not an HTTP endpoint');
    headers.Authorization = `Bearer ${this.endpoint.token}`;
    // URL keeps IPv6 hosts in brackets; the socket layer wants the bare address.
    return { host: this.endpoint.url.hostname.replace(/^\[|\]$/g, ''), port: this.endpoint.url.port };
  }

  private parse<T>(status: number, text: string): T {
    if (status === 401) throw new AdminError(`${describeEndpoint(this.endpoint)} refused the admin token (401)`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new AdminError(`${describeEndpoint(this.endpoint)} answered ${status} with something other than JSON: is it Turnpike's admin interface?`);
    }
    if (status !== 200) throw new AdminError(`${describeEndpoint(this.endpoint)} answered ${status}: ${(body as Partial<ErrorBody>).error ?? text}`);
    return body as T;
  }

  private unreachable(error: NodeJS.ErrnoException): AdminError {
    const hint = CONNECT_HINTS[error.code ?? ''];
    return new AdminError(`cannot reach the admin interface at ${describeEndpoint(this.endpoint)}: ${error.message}${hint ? ` (${hint})` : ''}`);
  }
}
