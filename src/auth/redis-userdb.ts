/**
 * coturn's Redis user database (`redis-userdb`), in coturn's key layout (turndb/schema.userdb.redis,
 * dbd_redis.c), so that a fleet of servers, coturn's and Turnpike's, shares one set of users:
 *
 *   turn/realm/<realm>/user/<name>/key        the long-term key, 32 hex digits
 *   turn/realm/<realm>/user/<name>/password   or the password in clear (used when there is no valid key)
 *   turn/realm/<realm>/secret                 a set of TURN REST API secrets (coturn's layout)
 *   turn/realm/<realm>/secret/<any id>        also read: one secret each
 *   turn/realm/<realm>/max-bps|total-quota|user-quota   the realm's options
 *   turn/oauth/kid/<kid>                      an oAuth key: hash of ikm_key, timestamp, lifetime, as_rs_alg, realm
 *
 * Every lookup asks Redis, so users added while the server runs count at once. A lookup that
 * Redis does not answer within LOOKUP_TIMEOUT_MS (down, slow, reconnecting) is answered from the
 * last known answer; the outage is logged once, and its end too. The client reconnects by itself.
 */
import type { Redis } from 'ioredis';
import { newRedisClient } from './redis-client.js';
import type { RedisConnection } from '../config/redis-connection.js';
import { describeRedisConnection } from '../config/redis-connection.js';
import { longTermKey } from '../stun/integrity.js';
import type { LongTermKeys } from './credentials.js';
import { LastKnownAnswers } from './last-known.js';
import { oauthKeyRowOf, type OAuthKeyRow } from './oauth-token.js';
import {
  HEX_KEY, LOOKUP_TIMEOUT_MS, Reachability, RealmOptionsCache, START_WAIT_MS, delay, realmOptionsOf,
  type RealmOptions, type RemoteUserDb, type RemoteUserDbLog,
} from './remote-userdb.js';

export class RedisUserDb implements RemoteUserDb {
  private readonly client: Redis;
  private readonly where: string;
  private readonly reachability: Reachability;
  private readonly realmOptionsCache = new RealmOptionsCache((realm) => this.readRealmOptions(realm));

  constructor(
    connection: RedisConnection,
    private readonly log: RemoteUserDbLog,
    private readonly timeoutMs = LOOKUP_TIMEOUT_MS,
    /** Shared with the other relay workers' databases. */
    private readonly lastKnown = new LastKnownAnswers(),
  ) {
    this.where = describeRedisConnection(connection);
    this.reachability = new Reachability(log, `Redis user database ${this.where}`);
    this.client = newRedisClient(connection);
    this.client.on('error', (error: Error) => this.reachability.down(error.message));
    this.client.on('ready', () => this.reachability.up());
  }

  /** Connects (waiting a bounded time: an unreachable Redis does not stop the server) and reads `realm`'s options. */
  async start(realm: string): Promise<void> {
    const connected = this.client.connect().then(
      () => true,
      (error: unknown) => {
        this.reachability.down(error instanceof Error ? error.message : String(error));
        return false;
      },
    );
    const ok = await Promise.race([connected, delay(START_WAIT_MS).then(() => false)]);
    if (!ok) {
      this.reachability.down('no connection at start');
      return;
    }
    this.log.info(`Redis user database: ${this.where}`);
    await this.realmOptionsCache.refresh(realm);
  }

  /** The user's long-term keys: the hex key (MD5 only), else the clear password (coturn's order). */
  async keysOf(username: string, realm: string): Promise<LongTermKeys | undefined> {
    const base = `turn/realm/${realm}/user/${username}`;
    const result = await this.ask(() => this.client.mget(`${base}/key`, `${base}/password`));
    if (!result.ok) return this.lastKnown.keysOf(username, realm);
    const [hex, password] = result.value;
    let keys: LongTermKeys | undefined;
    if (hex != null && HEX_KEY.test(hex)) keys = { md5: Buffer.from(hex, 'hex') };
    else {
      if (hex != null) this.log.warn(`Redis user database: the key of "${username}" in realm "${realm}" is not 32 hex digits; trying its password`);
      if (password != null) keys = { md5: longTermKey(username, realm, password), sha256: longTermKey(username, realm, password, 'sha256') };
    }
    if (keys) this.lastKnown.learnKeys(username, realm, keys);
    else this.lastKnown.forgetKeys(username, realm);
    return keys;
  }

  /** The realm's REST API secrets. */
  async secretsFor(realm: string): Promise<readonly string[]> {
    const result = await this.ask(async () => {
      // coturn's layout: the members of the set turn/realm/<realm>/secret (what turnadmin -N -s adds).
      const members = await this.client.smembers(`turn/realm/${realm}/secret`);
      // And, as Turnpike read them before, string keys under turn/realm/<realm>/secret/.
      const names = await this.client.keys(`turn/realm/${escapeGlob(realm)}/secret/*`);
      const values = names.length > 0 ? await this.client.mget(...names.sort()) : [];
      return [...members, ...values.filter((v): v is string => v != null)];
    });
    if (!result.ok) return this.lastKnown.secretsOf(realm);
    this.lastKnown.learnSecrets(realm, result.value);
    return result.value;
  }

  /** The oAuth key `kid` (coturn's redis_get_oauth_key). */
  async oauthKeyFor(kid: string): Promise<OAuthKeyRow | undefined> {
    const result = await this.ask(() => this.client.hgetall(`turn/oauth/kid/${kid}`));
    return result.ok && Object.keys(result.value).length > 0 ? oauthKeyRowOf(kid, result.value) : undefined;
  }

  /** The secrets last read, without asking Redis (for the self-test page). */
  knownSecretsFor(realm: string): readonly string[] {
    return this.lastKnown.secretsOf(realm);
  }

  /**
   * The realm's options, as last read: the engine asks synchronously, so the answer comes from
   * a cache that this call refreshes in the background when older than a second.
   */
  realmOptions(realm: string): RealmOptions {
    return this.realmOptionsCache.get(realm);
  }

  async close(): Promise<void> {
    if (this.reachability.closed) return;
    this.reachability.closed = true;
    this.client.disconnect();
  }

  private async readRealmOptions(realm: string): Promise<RealmOptions | undefined> {
    const base = `turn/realm/${realm}`;
    const names = ['max-bps', 'total-quota', 'user-quota'];
    const result = await this.ask(() => this.client.mget(...names.map((n) => `${base}/${n}`)));
    return result.ok ? realmOptionsOf(names.map((n, i) => [n, result.value[i]] as const)) : undefined;
  }

  private ask<T>(query: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
    return this.reachability.ask(query, this.timeoutMs);
  }
}

/** A realm is a name, not a pattern: its glob characters are matched literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
