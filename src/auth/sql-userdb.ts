/**
 * coturn's user database on an SQL server (`psql-userdb`, `mysql-userdb`), in coturn's schema
 * (schema.sql, the same for both), so that a fleet of servers, coturn's and Turnpike's, shares
 * one set of users:
 *
 *   turnusers_lt (realm, name, hmackey)     the long-term keys, 32 hex digits (char(128): padded)
 *   turn_secret (realm, value)              TURN REST API secrets
 *   turn_realm_option (realm, opt, value)   max-bps, total-quota, user-quota
 *   oauth_key (kid, ikm_key, timestamp, lifetime, as_rs_alg, realm)   oAuth keys (RFC 7635)
 *
 * Every lookup is one query, so users and secrets added while the server runs count at once
 * (no polling: coturn's turnadmin notifies no one). Queries run on a small pool of connections,
 * asynchronously: the relay loop never waits on them. A lookup not answered within
 * LOOKUP_TIMEOUT_MS is answered from the last known answer; the outage is logged once and its
 * end too (probed every second while it lasts). Each relay worker has its own pool on the same
 * database, so every worker sees the same users. What differs between servers is the pool
 * (SqlPool): pg-userdb.ts, mysql-userdb.ts.
 */
import type { LongTermKeys } from './credentials.js';
import { LastKnownAnswers } from './last-known.js';
import { oauthKeyRowOf, type OAuthKeyRow } from './oauth-token.js';
import {
  HEX_KEY, LOOKUP_TIMEOUT_MS, Reachability, RealmOptionsCache, START_WAIT_MS, realmOptionsOf,
  type RealmOptions, type RemoteUserDb, type RemoteUserDbLog,
} from './remote-userdb.js';

/** Connections per relay thread: lookups are short, and each worker has its own. */
export const POOL_SIZE = 4;
/** A connection attempt (or a query) hung longer than this is dropped, so the pool never fills with dead ones. */
export const GIVE_UP_MS = 5000;
/** While unreachable, how often a probe asks (so that "back" is said without waiting for a client). */
const PROBE_MS = 1000;
const PROBE_SQL = 'SELECT 1 FROM turnusers_lt LIMIT 0';

/** A pool of connections to one database. */
export interface SqlPool {
  /** e.g. "PostgreSQL", "MySQL" */
  readonly kind: string;
  /** The database, for logs (never its password). */
  readonly where: string;
  /** The rows of a statement with `?` placeholders. */
  select<R>(sql: string, values: readonly string[]): Promise<R[]>;
  end(): Promise<void>;
}

export class SqlUserDb implements RemoteUserDb {
  private readonly reachability: Reachability;
  private readonly realmOptionsCache = new RealmOptionsCache((realm) => this.readRealmOptions(realm));
  private probe: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: SqlPool,
    private readonly log: RemoteUserDbLog,
    private readonly timeoutMs = LOOKUP_TIMEOUT_MS,
    /** Shared with the other relay workers' databases. */
    private readonly lastKnown = new LastKnownAnswers(),
  ) {
    this.reachability = new Reachability(log, `${pool.kind} user database ${pool.where}`);
  }

  async start(realm: string): Promise<void> {
    const answered = await this.reachability.ask(() => this.pool.select(PROBE_SQL, []), START_WAIT_MS);
    if (!answered.ok) {
      this.wentDown('no connection at start');
      return;
    }
    this.log.info(`${this.pool.kind} user database: ${this.pool.where}`);
    await this.realmOptionsCache.refresh(realm);
  }

  /** The user's long-term key, MD5 only (coturn reads the first 32 hex digits of the padded char(128)). */
  async keysOf(username: string, realm: string): Promise<LongTermKeys | undefined> {
    const result = await this.query<{ hmackey: string | null }>('SELECT hmackey FROM turnusers_lt WHERE name = ? AND realm = ?', [username, realm]);
    if (!result.ok) return this.lastKnown.keysOf(username, realm);
    const hmackey = result.value[0]?.hmackey?.trimEnd();
    if (hmackey == null) {
      this.lastKnown.forgetKeys(username, realm);
      return undefined;
    }
    if (!HEX_KEY.test(hmackey)) {
      this.log.warn(`${this.pool.kind} user database: the key of "${username}" in realm "${realm}" is not 32 hex digits; user refused`);
      return undefined;
    }
    const keys = { md5: Buffer.from(hmackey, 'hex') };
    this.lastKnown.learnKeys(username, realm, keys);
    return keys;
  }

  async secretsFor(realm: string): Promise<readonly string[]> {
    const result = await this.query<{ value: string }>('SELECT value FROM turn_secret WHERE realm = ?', [realm]);
    if (!result.ok) return this.lastKnown.secretsOf(realm);
    const secrets = result.value.map((r) => r.value);
    this.lastKnown.learnSecrets(realm, secrets);
    return secrets;
  }

  /** The oAuth key `kid` from coturn's oauth_key table. */
  async oauthKeyFor(kid: string): Promise<OAuthKeyRow | undefined> {
    const result = await this.query<Record<string, unknown>>('SELECT ikm_key, timestamp, lifetime, as_rs_alg, realm FROM oauth_key WHERE kid = ?', [kid]);
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

  /** An error on an idle connection (the server restarted or shut down): logged once, then probed. */
  idleConnectionFailed(reason: string): void {
    this.wentDown(reason);
  }

  private async readRealmOptions(realm: string): Promise<RealmOptions | undefined> {
    const result = await this.query<{ opt: string; value: string }>('SELECT opt, value FROM turn_realm_option WHERE realm = ?', [realm]);
    return result.ok ? realmOptionsOf(result.value.map((r) => [r.opt, r.value] as const)) : undefined;
  }

  private async query<R>(sql: string, values: readonly string[]): Promise<{ ok: true; value: R[] } | { ok: false }> {
    const result = await this.reachability.ask(() => this.pool.select<R>(sql, values), this.timeoutMs);
    if (!result.ok) this.wentDown('');
    return result;
  }

  /** Logged by the reachability (once); then probed until it answers again. */
  private wentDown(reason: string): void {
    if (reason !== '') this.reachability.down(reason);
    if (this.probe || this.reachability.closed) return;
    this.probe = setInterval(() => {
      void this.reachability.ask(() => this.pool.select(PROBE_SQL, []), PROBE_MS).then((r) => {
        if (!r.ok) return;
        clearInterval(this.probe);
        this.probe = undefined;
      });
    }, PROBE_MS);
    this.probe.unref();
  }
}

/** `?` placeholders as PostgreSQL's `$1, $2, …` (the statements have no `?` inside literals). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
