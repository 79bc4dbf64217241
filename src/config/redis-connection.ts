/**
 * coturn's Redis connection string (`redis-userdb`): space-separated `key=value` pairs, all
 * optional, e.g. `ip=127.0.0.1 dbname=2 password=turn port=6379 connect_timeout=30`.
 * The key names and defaults are coturn's (dbd_redis_conninfo.c); coturn refuses a key it
 * does not know, Turnpike warns and ignores it.
 */

export interface RedisConnection {
  readonly host: string;
  readonly port: number;
  /** The Redis database number (`SELECT`). */
  readonly db: number;
  /** Redis 6 ACL user; undefined: the default user. */
  readonly username: string | undefined;
  /** undefined: no AUTH. */
  readonly password: string | undefined;
  /** Seconds to wait for a connection; 0: the client's default. */
  readonly connectTimeoutSeconds: number;
}

export interface ParsedRedisConnection {
  readonly connection: RedisConnection | undefined;
  readonly warnings: readonly string[];
  /** Set when the string cannot be used (the server must not start with it). */
  readonly error: string | undefined;
}

const HOST = ['host', 'ip', 'addr', 'ipaddr', 'hostaddr'];
const DB = ['dbname', 'db', 'database'];
const USER = ['user', 'uname', 'name', 'username'];
const PASSWORD = ['password', 'pwd', 'passwd', 'secret'];
const PORT = ['port', 'p'];
const TIMEOUT = ['connect_timeout', 'timeout'];
/** coturn 4.7's TLS keys: Turnpike speaks plain TCP to Redis only, so these refuse to start rather than fall back. */
const TLS = ['tls', 'ssl', 'tls-ca', 'ca', 'cacert', 'tls-capath', 'capath', 'tls-cert', 'cert', 'tls-key', 'clientkey', 'tls-sni', 'sni', 'servername', 'tls-verify', 'verify'];

export const DEFAULT_REDIS_PORT = 6379;

export function parseRedisConnection(text: string): ParsedRedisConnection {
  const warnings: string[] = [];
  let host = '127.0.0.1';
  let port = DEFAULT_REDIS_PORT;
  let db = 0;
  let username: string | undefined;
  let password: string | undefined;
  let connectTimeoutSeconds = 0;
  const fail = (error: string): ParsedRedisConnection => ({ connection: undefined, warnings, error });

  for (const token of text.split(' ').filter((t) => t !== '')) {
    const eq = token.indexOf('=');
    if (eq < 0) return fail(`"${token}" is not key=value`);
    const key = token.slice(0, eq);
    const value = token.slice(eq + 1);
    if (HOST.includes(key)) host = value === '' ? '127.0.0.1' : value;
    else if (DB.includes(key)) {
      if (!/^\d+$/.test(value)) return fail(`${key}=${value}: the database is a number`);
      db = Number(value);
    } else if (USER.includes(key)) username = value === '' ? undefined : value;
    else if (PASSWORD.includes(key)) password = value === '' ? undefined : value;
    else if (PORT.includes(key)) {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < 1 || n > 65535) return fail(`${key}=${value}: not a port`);
      port = n;
    } else if (TIMEOUT.includes(key)) {
      if (!/^\d+$/.test(value)) return fail(`${key}=${value}: not a number of seconds`);
      connectTimeoutSeconds = Number(value);
    } else if (TLS.includes(key)) {
      return fail(`${key}: TLS to Redis is not supported yet (use a local Redis or a TLS tunnel)`);
    } else {
      warnings.push(`unknown key "${key}" in the Redis connection string, ignored (coturn refuses it)`);
    }
  }
  return { connection: { host, port, db, username, password, connectTimeoutSeconds }, warnings, error: undefined };
}

/** For logs: the connection without its password. */
export function describeRedisConnection(c: RedisConnection): string {
  return `redis://${c.username !== undefined ? `${c.username}@` : ''}${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}/${c.db}`;
}
