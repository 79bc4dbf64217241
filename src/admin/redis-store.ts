/**
 * turnadmin on coturn's Redis user database (-N), in coturn 4.6.1's key layout and order
 * (dbd_redis.c, turndb/schema.userdb.redis), behind the same store API as the SQL databases:
 *
 *   turn/realm/<realm>/user/<name>/key      the user's key, 32 hex digits
 *   turn/realm/<realm>/secret               a set of REST API secrets
 *   turn/realm/<realm>/<max-bps|total-quota|user-quota>
 *   turn/origin/<origin>                    the origin's realm
 *   turn/admin_user/<name>                  a hash: password, and realm when it has one
 *
 * Listings come in the order Redis gives the keys (KEYS, SMEMBERS), as coturn prints them.
 * Unlike coturn, no SAVE follows a write (the server's own persistence settings apply), and
 * -X deletes the realm's secrets (coturn's -N removes an empty secret, that is nothing).
 */
import type { Redis } from 'ioredis';
import { connectOnce, newRedisClient } from '../auth/redis-client.js';
import { describeRedisConnection, parseRedisConnection, type RedisConnection } from '../config/redis-connection.js';
import { AdminError } from './errors.js';
import type { RealmOption } from './request.js';
import type { NameRealm, OriginRow, RealmOptionRow, SecretRow, UserStore } from './store.js';

const REALM_OPTIONS: readonly RealmOption[] = ['max-bps', 'total-quota', 'user-quota'];

export class RedisAdminStore implements UserStore {
  readonly kind = 'redis';

  private constructor(
    private readonly client: Redis,
    readonly where: string,
  ) {}

  /** Connected, or an AdminError saying why not. */
  static async open(connection: string | RedisConnection): Promise<RedisAdminStore> {
    const parsed = typeof connection === 'string' ? parseRedisConnection(connection) : { connection, error: undefined };
    if (parsed.connection === undefined) throw new AdminError(`-N: ${parsed.error}`);
    const where = describeRedisConnection(parsed.connection);
    const client = newRedisClient(parsed.connection);
    await connectOnce(client).catch((error: Error) => {
      throw new AdminError(`Redis user database ${where}: cannot connect: ${error.message}`);
    });
    return new RedisAdminStore(client, where);
  }

  errorOf(error: unknown): AdminError {
    return new AdminError(`Redis user database ${this.where}: ${error instanceof Error ? error.message : String(error)}`);
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => {});
    this.client.disconnect();
  }

  async setUserKey(name: string, realm: string, hmackey: string): Promise<void> {
    await this.client.set(`turn/realm/${realm}/user/${name}/key`, hmackey);
  }

  async deleteUser(name: string, realm: string): Promise<boolean> {
    return (await this.client.del(`turn/realm/${realm}/user/${name}/key`)) > 0;
  }

  async users(realm: string | undefined): Promise<NameRealm[]> {
    const keys = await this.client.keys(realm ? `turn/realm/${realm}/user/*/key` : 'turn/realm/*/user/*/key');
    return keys.flatMap((key) => {
      const m = /^turn\/realm\/([^/]*)\/user\/([^/]*)\//.exec(key);
      return m ? [{ name: m[2]!, realm: m[1]! }] : [];
    });
  }

  async setAdminUser(name: string, realm: string, encryptedPassword: string): Promise<void> {
    await this.client.hset(`turn/admin_user/${name}`, realm !== '' ? { realm, password: encryptedPassword } : { password: encryptedPassword });
  }

  async deleteAdminUser(name: string): Promise<boolean> {
    return (await this.client.del(`turn/admin_user/${name}`)) > 0;
  }

  async adminUsers(): Promise<NameRealm[]> {
    const rows: NameRealm[] = [];
    for (const key of await this.client.keys('turn/admin_user/*')) {
      const name = key.slice('turn/admin_user/'.length);
      const user = await this.adminUser(name);
      if (user) rows.push({ name, realm: user.realm });
    }
    return rows;
  }

  /** As coturn: a hash without a password is no admin user. */
  async adminUser(name: string): Promise<{ password: string; realm: string } | undefined> {
    const hash = await this.client.hgetall(`turn/admin_user/${name}`);
    return hash.password !== undefined ? { password: hash.password, realm: hash.realm ?? '' } : undefined;
  }

  async adminPassword(name: string): Promise<string | undefined> {
    return (await this.adminUser(name))?.password;
  }

  /** Removed first, as coturn does: a secret given again moves to the end. */
  async addSecret(value: string, realm: string): Promise<void> {
    await this.client.srem(secretsKey(realm), value);
    await this.client.sadd(secretsKey(realm), value);
  }

  async deleteSecret(value: string, realm: string): Promise<boolean> {
    return (await this.client.srem(secretsKey(realm), value)) > 0;
  }

  async deleteAllSecrets(realm: string): Promise<number> {
    const count = await this.client.scard(secretsKey(realm));
    await this.client.del(secretsKey(realm));
    return count;
  }

  async secrets(realm: string | undefined): Promise<SecretRow[]> {
    const rows: SecretRow[] = [];
    for (const key of await this.client.keys(realm ? secretsKey(realm) : 'turn/realm/*/secret')) {
      const keyRealm = key.slice('turn/realm/'.length, -'/secret'.length);
      for (const value of await this.client.smembers(key)) rows.push({ value, realm: keyRealm });
    }
    return rows;
  }

  secretsInOrder(realm: string): Promise<string[]> {
    return this.client.smembers(secretsKey(realm));
  }

  async addOrigin(origin: string, realm: string): Promise<void> {
    await this.client.set(`turn/origin/${origin}`, realm);
  }

  async deleteOrigin(origin: string): Promise<boolean> {
    return (await this.client.del(`turn/origin/${origin}`)) > 0;
  }

  async origins(realm: string | undefined): Promise<OriginRow[]> {
    const rows: OriginRow[] = [];
    for (const key of await this.client.keys('turn/origin/*')) {
      const value = await this.client.get(key);
      if (value !== null && (!realm || value === realm)) rows.push({ origin: key.slice('turn/origin/'.length), realm: value });
    }
    return rows;
  }

  async setRealmOption(realm: string, opt: RealmOption, value: string): Promise<void> {
    await this.client.set(`turn/realm/${realm}/${opt}`, value);
  }

  async deleteRealmOption(realm: string, opt: RealmOption): Promise<boolean> {
    return (await this.client.del(`turn/realm/${realm}/${opt}`)) > 0;
  }

  /** coturn: every key under the realm(s) that names an option (KEYS order). */
  async realmOptions(realm: string | undefined): Promise<RealmOptionRow[]> {
    const rows: RealmOptionRow[] = [];
    for (const key of await this.client.keys(realm ? `turn/realm/${realm}/*` : 'turn/realm/*')) {
      const opt = REALM_OPTIONS.find((o) => key.includes(`/${o}`));
      if (opt === undefined) continue;
      const value = await this.client.get(key).catch(() => null); // a secret set is not a string
      if (value === null) continue;
      const rest = key.slice('turn/realm/'.length);
      rows.push({ realm: rest.slice(0, rest.lastIndexOf('/')), opt: rest.slice(rest.lastIndexOf('/') + 1), value });
    }
    return rows;
  }

  /** Redis writes one key at a time, as coturn does. */
  transaction(fn: () => Promise<void>): Promise<void> {
    return fn();
  }
}

function secretsKey(realm: string): string {
  return `turn/realm/${realm}/secret`;
}
