/**
 * What the web admin page's requests do. Sessions, disconnect, reload and drain go through
 * the admin interface's own routes (routeAdminRequest: one code path for `turnpike admin`
 * and this page); users and secrets through turnadmin's code (user-database.ts). An admin
 * user with a realm sees and disconnects that realm's sessions only, and cannot reload or drain.
 */
import { AdminError } from '../admin/errors.js';
import { routeAdminRequest, type AdminResponse } from '../control/admin-routes.js';
import { ADMIN_PATHS } from '../control/api.js';
import type { ServerControl, SessionReport } from '../control/server-control.js';
import type { Principal } from './login-sessions.js';
import { REFUSALS, topUsers, type TrafficSampler } from './traffic-sampler.js';
import { UserDbRefusal, type UserDatabaseAdmin } from './user-database.js';

/** What the Server view shows besides what the control gives. */
export interface ServerInfo {
  readonly version: string;
  readonly startedAt: number;
  readonly configFile: string | undefined;
  /** The configuration in force: option, value, and where it was set. */
  readonly settings: readonly { readonly option: string; readonly value: string; readonly from: string }[];
  readonly startWarnings: readonly string[];
  readonly reloadWarnings: readonly string[];
}

export interface WebAdminContext {
  readonly control: ServerControl;
  readonly sampler: TrafficSampler;
  /** Undefined without a SQLite userdb. */
  readonly userDb: UserDatabaseAdmin | undefined;
  serverInfo(): ServerInfo;
}

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly principal: Principal;
}

type Handler = (context: WebAdminContext, request: ApiRequest) => Promise<AdminResponse> | AdminResponse;

const ok = (body: unknown): AdminResponse => ({ status: 200, body });
const refused = (status: number, error: string): AdminResponse => ({ status, body: { error } });
const control = (context: WebAdminContext, method: string, path: string, body?: unknown, query = new URLSearchParams()) =>
  routeAdminRequest(context.control, { method, path, query, body });

const everyRealm = (principal: Principal): boolean => principal.realm === '';

/** The live sessions this admin may see, each with its current bit rate. */
async function visibleSessions(context: WebAdminContext, { principal, query }: ApiRequest): Promise<(SessionReport & { bitsPerSecond: number })[]> {
  const user = query.get('user') ?? '';
  const response = await control(context, 'GET', ADMIN_PATHS.sessions, undefined, new URLSearchParams(user === '' ? {} : { user }));
  const realm = everyRealm(principal) ? (query.get('realm') ?? '') : principal.realm;
  return (response.body as SessionReport[])
    .filter((s) => realm === '' || s.realm === realm)
    .map((s) => ({ ...s, bitsPerSecond: context.sampler.rateOf(s.id) }));
}

const ROUTES: Readonly<Record<string, Handler>> = {
  'GET /api/sessions': async (context, request) => ok(await visibleSessions(context, request)),
  'POST /api/disconnect': async (context, request) => {
    const { id, user } = (request.body ?? {}) as { id?: unknown; user?: unknown };
    if (everyRealm(request.principal)) return control(context, 'POST', ADMIN_PATHS.disconnect, request.body);
    // Another realm's sessions are not this admin's: end those of the own realm one by one.
    const mine = await visibleSessions(context, { ...request, query: new URLSearchParams() });
    const targets = mine.filter((s) => (user === undefined ? s.id === id : s.user === user && id === undefined));
    let disconnected = 0;
    for (const s of targets) disconnected += ((await control(context, 'POST', ADMIN_PATHS.disconnect, { id: s.id })).body as { disconnected: number }).disconnected;
    return ok({ disconnected });
  },
  'GET /api/traffic': async (context, request) =>
    ok({
      intervalMs: context.sampler.intervalMs,
      points: context.sampler.history(),
      topUsers: topUsers(await visibleSessions(context, { ...request, query: new URLSearchParams() })),
      refusals: Object.entries(context.sampler.refusals()).map(([code, count]) => ({ code: Number(code), reason: REFUSALS[code], count })),
    }),
  'GET /api/server': (context, { principal }) =>
    everyRealm(principal) ? ok({ ...context.serverInfo(), uptimeSeconds: Math.round(process.uptime()) }) : ok({ version: context.serverInfo().version }),
  'POST /api/reload': (context, { principal }) => (everyRealm(principal) ? control(context, 'POST', ADMIN_PATHS.reload) : onlyEveryRealm()),
  'POST /api/drain': (context, { principal }) => (everyRealm(principal) ? control(context, 'POST', ADMIN_PATHS.drain) : onlyEveryRealm()),
  'GET /api/userdb': (context, { principal }) => withUserDb(context, async (db) => ok(await db.listing(principal))),
  'POST /api/userdb': (context, { principal, body }) =>
    withUserDb(context, async (db) => {
      const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      await db.change(principal, typeof fields.action === 'string' ? fields.action : '', fields);
      return ok(await db.listing(principal));
    }),
};

function onlyEveryRealm(): AdminResponse {
  return refused(403, 'an admin user of one realm cannot reload or drain the server');
}

async function withUserDb(context: WebAdminContext, fn: (db: UserDatabaseAdmin) => Promise<AdminResponse>): Promise<AdminResponse> {
  if (!context.userDb) return refused(409, 'no user database (userdb, psql-userdb, mysql-userdb or redis-userdb) is configured: users and secrets are managed there');
  try {
    return await fn(context.userDb);
  } catch (error) {
    if (error instanceof UserDbRefusal || error instanceof AdminError) return refused(400, error.message);
    throw error;
  }
}

export async function routeApiRequest(context: WebAdminContext, request: ApiRequest): Promise<AdminResponse> {
  const key = `${request.method} ${request.path}`;
  const handler = Object.hasOwn(ROUTES, key) ? ROUTES[key] : undefined;
  if (!handler) return refused(404, `no such request: ${key}`);
  return handler(context, request);
}
