/**
 * coturn's PostgreSQL connection string (`psql-userdb`), which coturn hands to libpq as it is:
 * either libpq's `key=value` form (`host=localhost dbname=coturn user=turn password=turn
 * connect_timeout=30`, values optionally in single quotes) or a `postgresql://` URI. Both are
 * read here into one record, with libpq's defaults; keys libpq does not know are refused, as
 * libpq refuses them.
 */
import os from 'node:os';

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export interface PgConnection {
  /** A host name or address, or a folder holding the server's unix socket (starts with '/'). */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** undefined: none given (~/.pgpass or PGPASSWORD may still give one). */
  readonly password: string | undefined;
  /** 0: wait as long as the operating system does (libpq's default). */
  readonly connectTimeoutSeconds: number;
  readonly sslMode: SslMode;
  readonly sslRootCert: string | undefined;
  readonly sslCert: string | undefined;
  readonly sslKey: string | undefined;
  readonly applicationName: string | undefined;
}

export interface ParsedPgConnection {
  readonly connection: PgConnection | undefined;
  readonly warnings: readonly string[];
  /** Set when the string cannot be used (the server must not start with it). */
  readonly error: string | undefined;
}

/** libpq keywords that Turnpike uses. */
const USED = new Set(['host', 'hostaddr', 'port', 'dbname', 'user', 'password', 'connect_timeout', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'application_name']);
/** libpq keywords that change nothing here (or nothing Turnpike can honour): warned about, then ignored. */
const IGNORED = new Set([
  'passfile', 'client_encoding', 'options', 'fallback_application_name', 'keepalives', 'keepalives_idle', 'keepalives_interval',
  'keepalives_count', 'tcp_user_timeout', 'sslcompression', 'sslpassword', 'sslcrl', 'sslcrldir', 'sslsni', 'requirepeer',
  'ssl_min_protocol_version', 'ssl_max_protocol_version', 'gssencmode', 'krbsrvname', 'gsslib', 'service', 'target_session_attrs',
  'channel_binding', 'replication', 'load_balance_hosts', 'require_auth',
]);
const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** Debian's libpq looks for the server's socket here when no host is given. */
const DEFAULT_SOCKET_DIR = '/var/run/postgresql';
export const DEFAULT_PG_PORT = 5432;

class PgConnectionError extends Error {}

export function parsePgConnection(text: string, env: NodeJS.ProcessEnv = process.env): ParsedPgConnection {
  const warnings: string[] = [];
  try {
    const keywords = /^postgres(?:ql)?:\/\//.test(text.trim()) ? uriKeywords(text.trim()) : keyValueKeywords(text);
    for (const key of keywords.keys()) {
      if (IGNORED.has(key)) warnings.push(`"${key}" in the PostgreSQL connection string is ignored by Turnpike`);
      else if (!USED.has(key)) throw new PgConnectionError(`invalid connection option "${key}" (libpq refuses it too)`);
    }
    return { connection: connectionOf(keywords, env), warnings, error: undefined };
  } catch (error) {
    if (!(error instanceof PgConnectionError)) throw error;
    return { connection: undefined, warnings, error: error.message };
  }
}

function connectionOf(k: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): PgConnection {
  const given = (key: string, envName: string) => nonEmpty(k.get(key)) ?? nonEmpty(env[envName]);
  const portText = given('port', 'PGPORT') ?? String(DEFAULT_PG_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new PgConnectionError(`port=${portText}: not a port`);
  const timeoutText = given('connect_timeout', 'PGCONNECT_TIMEOUT') ?? '0';
  if (!/^\d+$/.test(timeoutText)) throw new PgConnectionError(`connect_timeout=${timeoutText}: not a number of seconds`);
  const sslMode = (given('sslmode', 'PGSSLMODE') ?? 'prefer') as SslMode;
  if (!SSL_MODES.includes(sslMode)) throw new PgConnectionError(`sslmode=${sslMode}: not one of ${SSL_MODES.join(', ')}`);
  const user = given('user', 'PGUSER') ?? os.userInfo().username;
  return {
    // hostaddr names the address to reach, host the name (libpq uses both; the address wins).
    host: nonEmpty(k.get('hostaddr')) ?? given('host', 'PGHOST') ?? DEFAULT_SOCKET_DIR,
    port,
    database: given('dbname', 'PGDATABASE') ?? user,
    user,
    password: k.get('password') ?? nonEmpty(env.PGPASSWORD),
    connectTimeoutSeconds: Number(timeoutText),
    sslMode,
    sslRootCert: given('sslrootcert', 'PGSSLROOTCERT'),
    sslCert: given('sslcert', 'PGSSLCERT'),
    sslKey: given('sslkey', 'PGSSLKEY'),
    applicationName: given('application_name', 'PGAPPNAME'),
  };
}

/** libpq's `key = value …`: values may be single-quoted, with \' and \\ inside. */
function keyValueKeywords(text: string): Map<string, string> {
  const keywords = new Map<string, string>();
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  for (skipSpace(); i < text.length; skipSpace()) {
    const keyStart = i;
    while (i < text.length && text[i] !== '=' && !/\s/.test(text[i]!)) i++;
    const key = text.slice(keyStart, i);
    skipSpace();
    if (text[i] !== '=') throw new PgConnectionError(`missing "=" after "${key}" in the connection string`);
    i++;
    skipSpace();
    let value = '';
    if (text[i] === "'") {
      for (i++; ; i++) {
        if (i >= text.length) throw new PgConnectionError(`unterminated quoted value of "${key}"`);
        if (text[i] === '\\' && i + 1 < text.length) value += text[++i];
        else if (text[i] === "'") break;
        else value += text[i];
      }
      i++;
    } else {
      for (; i < text.length && !/\s/.test(text[i]!); i++) value += text[i] === '\\' && i + 1 < text.length ? text[++i] : text[i];
    }
    keywords.set(key, value);
  }
  return keywords;
}

/** `postgresql://[user[:password]@][host][:port][/dbname][?key=value&…]`, percent-decoded. */
function uriKeywords(uri: string): Map<string, string> {
  const m = /^postgres(?:ql)?:\/\/([^/?]*)(?:\/([^?]*))?(?:\?(.*))?$/s.exec(uri);
  if (!m) throw new PgConnectionError('not a postgresql:// URI');
  const [, authority = '', path = '', query = ''] = m;
  const keywords = new Map<string, string>();
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new PgConnectionError(`bad percent-encoding in "${s}"`);
    }
  };
  const at = authority.lastIndexOf('@');
  const userInfo = at >= 0 ? authority.slice(0, at) : '';
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  if (userInfo !== '') {
    const colon = userInfo.indexOf(':');
    keywords.set('user', decode(colon >= 0 ? userInfo.slice(0, colon) : userInfo));
    if (colon >= 0) keywords.set('password', decode(userInfo.slice(colon + 1)));
  }
  if (hostPort.includes(',')) throw new PgConnectionError('several hosts in one URI are not supported; give one');
  const hp = /^(?:\[([^\]]*)\]|([^:]*))(?::(.*))?$/.exec(hostPort);
  const host = hp?.[1] ?? hp?.[2] ?? '';
  if (host !== '') keywords.set('host', decode(host));
  if (hp?.[3] !== undefined && hp[3] !== '') keywords.set('port', hp[3]);
  if (path !== '') keywords.set('dbname', decode(path));
  for (const pair of query.split('&').filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new PgConnectionError(`"${pair}" in the URI's parameters is not key=value`);
    keywords.set(decode(pair.slice(0, eq)), decode(pair.slice(eq + 1)));
  }
  return keywords;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** For logs: the connection without its password. */
export function describePgConnection(c: PgConnection): string {
  const host = c.host.startsWith('/') ? `${c.host} (socket)` : c.host.includes(':') ? `[${c.host}]` : c.host;
  return `postgresql://${encodeURIComponent(c.user)}@${host}:${c.port}/${encodeURIComponent(c.database)}`;
}
