/**
 * coturn's Redis user database (`redis-userdb`), in coturn's key layout (turndb/schema.userdb.redis,
 * dbd_redis.c), so that a fleet of servers, coturn's and Turnpike's, shares one set of users:
 *
 *   turn/realm/<realm>/user/<name>/key        the long-term key, 32 hex digits
 *   turn/realm/<realm>/user/<name>/password   or the password in clear (used when there is no valid key)
 *   turn/realm/<realm>/secret/<any id>        a TURN REST API secret (KEYS …/secret/*, as coturn)
 *   turn/realm/<realm>/max-bps|total-quota|user-quota   the realm's options
 *   turn/oauth/kid/<kid>                      an oAuth key: hash of ikm_key, timestamp, lifetime, as_rs_alg, realm
 *
 * Every lookup asks Redis, so users added while the server runs count at once. A lookup that
 * Redis does not answer within LOOKUP_TIMEOUT_MS (down, slow, reconnecting) is answered from the
 * last known answer; the outage is logged once, and its end too. The client reconnects by itself.
 */
import { Redis } from 'ioredis';
import type { RedisConnection } from '../config/redis-connection.js';
import { describeRedisConnection } from '../config/redis-connection.js';
import { longTermKey } from '../stun/integrity.js';
import type { OAuthKeySource } from './oauth.js';
import type { OAuthKeyRow } from './oauth-token.js';
import type { LongTermKeys } from './credentials.js';

/** As the SQLite busy timeout: a request waits no longer than this for Redis. */
const LOOKUP_TIMEOUT_MS = 250;
/** Last known answers kept for when Redis is unreachable. */
const FALLBACK_ENTRIES = 10_000;
/** Realm options are read in the background (the engine asks for them synchronously) at most this often. */
const REALM_OPTIONS_REFRESH_MS = 1000;
/** The longest wait for the first connection at start. */
const START_WAIT_MS = 3000;

export interface RealmOptions {
  maxBps?: number;
  userQuota?: number;
  totalQuota?: number;
}

export interface RedisUserDbLog {
  warn(message: string): void;
  info(message: string): void;
}

const HEX_KEY = /^[0-9a-fA-F]{32}$/;

export class RedisUserDb implements OAuthKeySource {
  private readonly client: Redis;
  private readonly where: string;
  private readonly lastKnownKeys = new Map<string, LongTermKeys>();
  private readonly lastKnownSecrets = new Map<string, string[]>();
  private readonly realmOptionsCache = new Map<string, { options: RealmOptions; readAt: number; reading: boolean }>();
  private unreachable = false;
  private closed = false;

  constructor(
    connection: RedisConnection,
    private readonly log: RedisUserDbLog,
    private readonly timeoutMs = LOOKUP_TIMEOUT_MS,
  ) {
    this.where = describeRedisConnection(connection);
    this.client = new Redis({
      host: connection.host,
      port: connection.port,
      db: connection.db,
      username: connection.username,
      password: connection.password,
      connectTimeout: connection.connectTimeoutSeconds > 0 ? connection.connectTimeoutSeconds * 1000 : 10_000,
      // Fail at once while disconnected: the last known answer is used, never a queued wait.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(100 * times, 2000),
      lazyConnect: true,
    });
    this.client.on('error', (error: Error) => this.down(error.message));
    this.client.on('ready', () => this.up());
  }

  /** Connects (waiting a bounded time: an unreachable Redis does not stop the server) and reads `realm`'s options. */
  async start(realm: string): Promise<void> {
    const connected = this.client.connect().then(
      () => true,
      (error: unknown) => {
        this.down(error instanceof Error ? error.message : String(error));
        return false;
      },
    );
    const ok = await Promise.race([connected, delay(START_WAIT_MS).then(() => false)]);
    if (!ok) {
      this.down('no connection at start');
      return;
    }
    this.log.info(`Redis user database: ${this.where}`);
    await this.readRealmOptions(realm);
  }

  /** The user's long-term keys: the hex key (MD5 only), else the clear password (coturn's order). */
  async keysOf(username: string, realm: string): Promise<LongTermKeys | undefined> {
    const cacheKey = `${realm}\u0000${username}`;
    const base = `turn/realm/${realm}/user/${username}`;
    const result = await this.ask(() => this.client.mget(`${base}/key`, `${base}/password`));
    if (!result.ok) return this.lastKnownKeys.get(cacheKey);
    const [hex, password] = result.value;
    let keys: LongTermKeys | undefined;
    if (hex != null && HEX_KEY.test(hex)) keys = { md5: Buffer.from(hex, 'hex') };
    else {
      if (hex != null) this.log.warn(`Redis user database: the key of "${username}" in realm "${realm}" is not 32 hex digits; trying its password`);
      if (password != null) keys = { md5: longTermKey(username, realm, password), sha256: longTermKey(username, realm, password, 'sha256') };
    }
    if (keys) remember(this.lastKnownKeys, cacheKey, keys);
    else this.lastKnownKeys.delete(cacheKey);
    return keys;
  }

  /** The realm's REST API secrets. */
  async secretsFor(realm: string): Promise<readonly string[]> {
    const result = await this.ask(async () => {
      const names = await this.client.keys(`turn/realm/${escapeGlob(realm)}/secret/*`);
      if (names.length === 0) return [];
      const values = await this.client.mget(...names.sort());
      return values.filter((v): v is string => v != null);
    });
    if (!result.ok) return this.lastKnownSecrets.get(realm) ?? [];
    remember(this.lastKnownSecrets, realm, result.value);
    return result.value;
  }

  /** The oAuth key `kid` (coturn's redis_get_oauth_key); undefined when there is none or Redis does not answer. */
  async oauthKeyFor(kid: string): Promise<OAuthKeyRow | undefined> {
    const result = await this.ask(() => this.client.hgetall(`turn/oauth/kid/${kid}`));
    if (!result.ok || Object.keys(result.value).length === 0) return undefined;
    const fields = result.value;
    return {
      kid,
      ikmKey: fields.ikm_key ?? '',
      timestamp: count(fields.timestamp ?? null) ?? 0,
      lifetime: count(fields.lifetime ?? null) ?? 0,
      asRsAlg: fields.as_rs_alg ?? '',
      realm: fields.realm ?? '',
    };
  }

  /** The secrets last read, without asking Redis (for the self-test page). */
  knownSecretsFor(realm: string): readonly string[] {
    return this.lastKnownSecrets.get(realm) ?? [];
  }

  /**
   * The realm's options, as last read: the engine asks synchronously, so the answer comes from
   * a cache that this call refreshes in the background when older than a second.
   */
  realmOptions(realm: string): RealmOptions {
    const cached = this.realmOptionsCache.get(realm);
    if (!cached || (!cached.reading && Date.now() - cached.readAt >= REALM_OPTIONS_REFRESH_MS)) void this.readRealmOptions(realm);
    return cached?.options ?? {};
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.disconnect();
  }

  private async readRealmOptions(realm: string): Promise<void> {
    const entry = this.realmOptionsCache.get(realm) ?? { options: {}, readAt: 0, reading: false };
    entry.reading = true;
    this.realmOptionsCache.set(realm, entry);
    const base = `turn/realm/${realm}`;
    const result = await this.ask(() => this.client.mget(`${base}/max-bps`, `${base}/total-quota`, `${base}/user-quota`));
    entry.reading = false;
    entry.readAt = Date.now();
    if (!result.ok) return; // keep the last known options
    const [maxBps, totalQuota, userQuota] = result.value.map(count);
    const options: RealmOptions = {};
    if (maxBps !== undefined) options.maxBps = maxBps;
    if (totalQuota !== undefined) options.totalQuota = totalQuota;
    if (userQuota !== undefined) options.userQuota = userQuota;
    entry.options = options;
  }

  /** A Redis round trip, bounded in time; an error or a time-out is reported once per outage, never thrown. */
  private async ask<T>(query: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
    if (this.closed) return { ok: false };
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      });
      const pending = query();
      pending.catch(() => {}); // a late rejection after the time-out
      const value = await Promise.race([pending, timeout]);
      this.up();
      return { ok: true, value };
    } catch (error) {
      this.down(error instanceof Error ? error.message : String(error));
      return { ok: false };
    } finally {
      clearTimeout(timer);
    }
  }

  private down(reason: string): void {
    if (this.closed || this.unreachable) return;
    this.unreachable = true;
    this.log.warn(`Redis user database ${this.where} is unreachable (${reason}); answering from the last known users, secrets and realm options until it is back`);
  }

  private up(): void {
    if (!this.unreachable) return;
    this.unreachable = false;
    this.log.info(`Redis user database ${this.where} is reachable again`);
  }
}

/** coturn's atol: a count or rate; anything else is no setting. */
function count(value: string | null): number | undefined {
  if (value == null) return undefined;
  const n = Number.parseInt(value, 10);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** A realm is a name, not a pattern: its glob characters are matched literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > FALLBACK_ENTRIES) map.delete(map.keys().next().value!);
}
