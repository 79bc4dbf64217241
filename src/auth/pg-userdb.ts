/**
 * coturn's PostgreSQL user database (`psql-userdb`), in coturn's schema (schema.sql), so that a
 * fleet of servers, coturn's and Turnpike's, shares one set of users:
 *
 *   turnusers_lt (realm, name, hmackey)     the long-term keys, 32 hex digits (char(128): padded)
 *   turn_secret (realm, value)              TURN REST API secrets
 *   turn_realm_option (realm, opt, value)   max-bps, total-quota, user-quota
 *   oauth_key (kid, ikm_key, timestamp, lifetime, as_rs_alg, realm)   oAuth keys (RFC 7635)
 *
 * Every lookup is one query, so users and secrets added while the server runs count at once
 * (no polling, no LISTEN: coturn's turnadmin sends no NOTIFY). Queries run on a small pool of
 * connections, asynchronously: the relay loop never waits on them. A lookup not answered within
 * LOOKUP_TIMEOUT_MS is answered from the last known answer; the outage is logged once and its
 * end too (probed every second while it lasts). Each relay worker has its own pool on the same
 * database, so every worker sees the same users.
 */
import pg from 'pg';
import { describePgConnection, type PgConnection } from '../config/pg-connection.js';
import type { LongTermKeys } from './credentials.js';
import { oauthKeyRowOf, type OAuthKeyRow } from './oauth-token.js';
import { pgClientConfig } from './pg-client.js';
import {
  HEX_KEY, LOOKUP_TIMEOUT_MS, Reachability, RealmOptionsCache, START_WAIT_MS, realmOptionsOf, remember,
  type RealmOptions, type RemoteUserDb, type RemoteUserDbLog,
} from './remote-userdb.js';

/** Connections per relay thread: lookups are short, and each worker has its own. */
const POOL_SIZE = 4;
/** While unreachable, how often a probe asks (so that "back" is said without waiting for a client). */
const PROBE_MS = 1000;
/** A connection attempt (or a query) hung longer than this is dropped, so the pool never fills with dead ones. */
const GIVE_UP_MS = 5000;

export class PgUserDb implements RemoteUserDb {
  private readonly pool: pg.Pool;
  private readonly where: string;
  private readonly reachability: Reachability;
  private readonly lastKnownKeys = new Map<string, LongTermKeys>();
  private readonly lastKnownSecrets = new Map<string, string[]>();
  private readonly realmOptionsCache = new RealmOptionsCache((realm) => this.readRealmOptions(realm));
  private probe: NodeJS.Timeout | undefined;

  constructor(
    connection: PgConnection,
    private readonly log: RemoteUserDbLog,
    private readonly timeoutMs = LOOKUP_TIMEOUT_MS,
  ) {
    this.where = describePgConnection(connection);
    this.reachability = new Reachability(log, `PostgreSQL user database ${this.where}`);
    const config = pgClientConfig(connection);
    this.pool = new pg.Pool({
      ...config,
      max: POOL_SIZE,
      connectionTimeoutMillis: Math.min(config.connectionTimeoutMillis ?? GIVE_UP_MS, GIVE_UP_MS),
      query_timeout: GIVE_UP_MS,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection the server closed (restart, shutdown): the pool drops it; not fatal.
    this.pool.on('error', (error: Error) => this.wentDown(error.message));
  }

  async start(realm: string): Promise<void> {
    const answered = await this.reachability.ask(() => this.pool.query('SELECT 1 FROM turnusers_lt LIMIT 0'), START_WAIT_MS);
    if (!answered.ok) {
      this.wentDown('no connection at start');
      return;
    }
    this.log.info(`PostgreSQL user database: ${this.where}`);
    await this.realmOptionsCache.refresh(realm);
  }

  /** The user's long-term key, MD5 only (coturn reads the first 32 hex digits of the padded char(128)). */
  async keysOf(username: string, realm: string): Promise<LongTermKeys | undefined> {
    const cacheKey = `${realm}\u0000${username}`;
    const result = await this.query<{ hmackey: string | null }>('SELECT hmackey FROM turnusers_lt WHERE name = $1 AND realm = $2', [username, realm]);
    if (!result.ok) return this.lastKnownKeys.get(cacheKey);
    const hmackey = result.value[0]?.hmackey?.trimEnd();
    if (hmackey == null) {
      this.lastKnownKeys.delete(cacheKey);
      return undefined;
    }
    if (!HEX_KEY.test(hmackey)) {
      this.log.warn(`PostgreSQL user database: the key of "${username}" in realm "${realm}" is not 32 hex digits; user refused`);
      return undefined;
    }
    const keys = { md5: Buffer.from(hmackey, 'hex') };
    remember(this.lastKnownKeys, cacheKey, keys);
    return keys;
  }

  async secretsFor(realm: string): Promise<readonly string[]> {
    const result = await this.query<{ value: string }>('SELECT value FROM turn_secret WHERE realm = $1', [realm]);
    if (!result.ok) return this.lastKnownSecrets.get(realm) ?? [];
    const secrets = result.value.map((r) => r.value);
    remember(this.lastKnownSecrets, realm, secrets);
    return secrets;
  }

  /** The oAuth key `kid` from coturn's oauth_key table. */
  async oauthKeyFor(kid: string): Promise<OAuthKeyRow | undefined> {
    const result = await this.query<Record<string, unknown>>('SELECT ikm_key, timestamp, lifetime, as_rs_alg, realm FROM oauth_key WHERE kid = $1', [kid]);
    const row = result.ok ? result.value[0] : undefined;
    return row ? oauthKeyRowOf(kid, row) : undefined;
  }

  /** As last read; refreshed in the background when older than a second. */
  realmOptions(realm: string): RealmOptions {
    return this.realmOptionsCache.get(realm);
  }

  async close(): Promise<void> {
    if (this.reachability.closed) return;
    this.reachability.closed = true;
    clearInterval(this.probe);
    await this.pool.end().catch(() => {});
  }

  private async readRealmOptions(realm: string): Promise<RealmOptions | undefined> {
    const result = await this.query<{ opt: string; value: string }>('SELECT opt, value FROM turn_realm_option WHERE realm = $1', [realm]);
    return result.ok ? realmOptionsOf(result.value.map((r) => [r.opt, r.value] as const)) : undefined;
  }

  private async query<R extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<{ ok: true; value: R[] } | { ok: false }> {
    const result = await this.reachability.ask(() => this.pool.query<R>(sql, values), this.timeoutMs);
    if (!result.ok) {
      this.wentDown('');
      return result;
    }
    return { ok: true, value: result.value.rows };
  }

  /** Logged by the reachability (once); then probed until it answers again. */
  private wentDown(reason: string): void {
    if (reason !== '') this.reachability.down(reason);
    if (this.probe || this.reachability.closed) return;
    this.probe = setInterval(() => {
      void this.reachability.ask(() => this.pool.query('SELECT 1 FROM turnusers_lt LIMIT 0'), PROBE_MS).then((r) => {
        if (!r.ok) return;
        clearInterval(this.probe);
        this.probe = undefined;
      });
    }, PROBE_MS);
    this.probe.unref();
  }
}
