/**
 * coturn's MySQL/MariaDB connection string (`mysql-userdb`): space-separated `key=value` pairs,
 * no quoting ("host=localhost dbname=coturn user=turn password=turn port=3306
 * connect_timeout=10 read_timeout=10"), with the aliases coturn's driver (dbd_mysql.c) accepts
 * and its defaults (host 127.0.0.1, database "0", empty user and password). A key coturn does not
 * know is refused, as coturn refuses it. The TLS keys (ca, capath, cert, key, cipher) are those
 * of mysql_ssl_set: any one of them turns TLS on.
 */

export interface MysqlConnection {
  /** A host name or address; "localhost" means the server's unix socket, as libmysqlclient has it. */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /** 0: the driver's default. */
  readonly connectTimeoutSeconds: number;
  /** 0: none (then Turnpike's own bounds apply). */
  readonly readTimeoutSeconds: number;
  readonly ssl: MysqlTls | undefined;
}

export interface MysqlTls {
  readonly ca: string | undefined;
  /** A folder of CA certificates. */
  readonly capath: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly cipher: string | undefined;
}

export interface ParsedMysqlConnection {
  readonly connection: MysqlConnection | undefined;
  /** Set when the string cannot be used (the server must not start with it). */
  readonly error: string | undefined;
}

export const DEFAULT_MYSQL_PORT = 3306;
/** Where Debian's MariaDB and MySQL put their socket; libmysqlclient's "localhost" goes there. */
export const DEFAULT_MYSQL_SOCKET = '/run/mysqld/mysqld.sock';

type Field = 'host' | 'database' | 'user' | 'password' | 'port' | 'connectTimeout' | 'readTimeout' | keyof MysqlTls;

/** coturn's keys and their aliases (dbd_mysql.c, MyconninfoParse). */
const FIELD_OF: Readonly<Record<string, Field>> = {
  host: 'host', ip: 'host', addr: 'host', ipaddr: 'host', hostaddr: 'host',
  dbname: 'database', db: 'database', database: 'database',
  user: 'user', uname: 'user', name: 'user', username: 'user',
  password: 'password', pwd: 'password', passwd: 'password', secret: 'password',
  port: 'port', p: 'port',
  connect_timeout: 'connectTimeout', timeout: 'connectTimeout',
  read_timeout: 'readTimeout',
  key: 'key', 'ssl-key': 'key',
  ca: 'ca', 'ssl-ca': 'ca',
  capath: 'capath', 'ssl-capath': 'capath',
  cert: 'cert', 'ssl-cert': 'cert',
  cipher: 'cipher', 'ssl-cipher': 'cipher',
};

export function parseMysqlConnection(text: string): ParsedMysqlConnection {
  const fields = new Map<Field, string>();
  for (const pair of text.split(' ').filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    if (eq < 0) return refused(`"${pair}" is not key=value`);
    const key = pair.slice(0, eq);
    const field = Object.hasOwn(FIELD_OF, key) ? FIELD_OF[key] : undefined;
    if (field === undefined) return refused(`unknown key "${key}" (coturn refuses it too)`);
    fields.set(field, pair.slice(eq + 1));
  }
  const port = seconds(fields.get('port'), 'port');
  if (typeof port === 'string') return refused(port);
  if (port > 65535) return refused(`port=${port}: not a port`);
  const connectTimeout = seconds(fields.get('connectTimeout'), 'connect_timeout');
  if (typeof connectTimeout === 'string') return refused(connectTimeout);
  const readTimeout = seconds(fields.get('readTimeout'), 'read_timeout');
  if (typeof readTimeout === 'string') return refused(readTimeout);
  const tls = { ca: fields.get('ca'), capath: fields.get('capath'), cert: fields.get('cert'), key: fields.get('key'), cipher: fields.get('cipher') };
  return {
    connection: {
      host: fields.get('host') ?? '127.0.0.1',
      port: port === 0 ? DEFAULT_MYSQL_PORT : port,
      database: fields.get('database') ?? '0',
      user: fields.get('user') ?? '',
      password: fields.get('password') ?? '',
      connectTimeoutSeconds: connectTimeout,
      readTimeoutSeconds: readTimeout,
      ssl: Object.values(tls).some((v) => v !== undefined) ? tls : undefined,
    },
    error: undefined,
  };
}

/** A count (0 when not given); a message when it is not a number. */
function seconds(value: string | undefined, key: string): number | string {
  if (value === undefined) return 0;
  return /^\d+$/.test(value) ? Number(value) : `${key}=${value}: not a number`;
}

function refused(error: string): ParsedMysqlConnection {
  return { connection: undefined, error };
}

/** For logs: the connection without its password. */
export function describeMysqlConnection(c: MysqlConnection): string {
  const host = c.host === 'localhost' ? `localhost (socket ${DEFAULT_MYSQL_SOCKET})` : c.host.includes(':') ? `[${c.host}]` : c.host;
  return `mysql://${encodeURIComponent(c.user)}@${host}:${c.port}/${encodeURIComponent(c.database)}`;
}
