/**
 * What each admin request does to the server: the routes of api.ts over a ServerControl.
 * Transport-free (no sockets, no authentication), so it reads as the API it implements.
 */
import type { LogLevel } from '../config/server-options.js';
import { LOG_LEVELS } from '../log/logger.js';
import { ADMIN_PATHS, type DisconnectResult, type LogLevelBody } from './api.js';
import type { ServerControl } from './server-control.js';

export interface AdminRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** The parsed JSON body; undefined when there was none. */
  readonly body: unknown;
}

export interface AdminResponse {
  readonly status: number;
  readonly body: unknown;
}

/** A request the server understood but cannot take: 400 with this message. */
class BadRequest extends Error {}

type Handler = (control: ServerControl, request: AdminRequest) => unknown;

const ROUTES: Readonly<Record<string, Readonly<Record<string, Handler>>>> = {
  [ADMIN_PATHS.sessions]: {
    GET: (control, { query }) => {
      const user = query.get('user');
      return control.sessions(user === null ? undefined : { user });
    },
  },
  [ADMIN_PATHS.disconnect]: {
    POST: async (control, { body }): Promise<DisconnectResult> => ({ disconnected: await control.disconnect(disconnectTarget(body)) }),
  },
  [ADMIN_PATHS.reload]: { POST: (control) => control.reload() },
  [ADMIN_PATHS.drain]: { POST: (control) => control.drain() },
  [ADMIN_PATHS.stats]: { GET: (control) => control.stats() },
  [ADMIN_PATHS.loglevel]: {
    GET: (control): LogLevelBody => ({ level: control.logLevel() }),
    PUT: (control, { body }): LogLevelBody => {
      control.setLogLevel(logLevelOf(body));
      return { level: control.logLevel() };
    },
  },
};

/** True for requests that change something: they are logged at info, the others at debug. */
export const changesState = (method: string): boolean => method !== 'GET';

export async function routeAdminRequest(control: ServerControl, request: AdminRequest): Promise<AdminResponse> {
  const methods = own(ROUTES, request.path);
  if (!methods) return { status: 404, body: { error: `no such admin path: ${request.path}` } };
  const handler = own(methods, request.method);
  if (!handler) return { status: 405, body: { error: `${request.path} takes ${Object.keys(methods).join(' or ')}` } };
  try {
    return { status: 200, body: await handler(control, request) };
  } catch (error) {
    if (error instanceof BadRequest) return { status: 400, body: { error: error.message } };
    throw error;
  }
}

/** A table entry, never something inherited from Object.prototype (`/constructor`). */
const own = <T>(table: Readonly<Record<string, T>>, key: string): T | undefined => (Object.hasOwn(table, key) ? table[key] : undefined);

function disconnectTarget(body: unknown): { id: number } | { user: string } {
  const { id, user } = (body ?? {}) as { id?: unknown; user?: unknown };
  if (typeof id === 'number' && Number.isSafeInteger(id) && user === undefined) return { id };
  if (typeof user === 'string' && user !== '' && id === undefined) return { user };
  throw new BadRequest('give {"id": <session id>} or {"user": "<user name>"}');
}

function logLevelOf(body: unknown): LogLevel {
  const { level } = (body ?? {}) as { level?: unknown };
  if (typeof level === 'string' && (LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new BadRequest(`give {"level": one of ${LOG_LEVELS.join(', ')}}`);
}
