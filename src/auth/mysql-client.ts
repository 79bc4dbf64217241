/**
 * A MySQL connection record (config/mysql-connection.ts) as the `mysql2` driver's settings,
 * with libmysqlclient's meaning: "localhost" is the unix socket; any TLS key turns TLS on
 * (mysql_ssl_set); a CA (ca or capath) has the server's chain checked, without one the
 * certificate is not checked (libmysqlclient does not check the host name unless told to).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ConnectionOptions, SslOptions } from 'mysql2';
import { DEFAULT_MYSQL_SOCKET, type MysqlConnection, type MysqlTls } from '../config/mysql-connection.js';

export function mysqlClientConfig(c: MysqlConnection): ConnectionOptions {
  return {
    ...(c.host === 'localhost' ? { socketPath: DEFAULT_MYSQL_SOCKET } : { host: c.host, port: c.port }),
    database: c.database,
    user: c.user,
    password: c.password,
    connectTimeout: c.connectTimeoutSeconds > 0 ? c.connectTimeoutSeconds * 1000 : undefined,
    ssl: c.ssl ? tlsOf(c.ssl) : undefined,
  };
}

function tlsOf(s: MysqlTls): SslOptions {
  const cas = [...(s.ca !== undefined ? [fs.readFileSync(s.ca)] : []), ...(s.capath !== undefined ? certificatesIn(s.capath) : [])];
  return {
    ca: cas.length > 0 ? cas : undefined,
    cert: s.cert !== undefined ? fs.readFileSync(s.cert) : undefined,
    key: s.key !== undefined ? fs.readFileSync(s.key) : undefined,
    ciphers: s.cipher,
    rejectUnauthorized: cas.length > 0, // mysql2 checks the host name only with verifyIdentity
  };
}

/** The PEM files of a CA folder (capath), as OpenSSL's hashed folders hold them. */
function certificatesIn(folder: string): Buffer[] {
  return fs
    .readdirSync(folder)
    .map((name) => path.join(folder, name))
    .filter((file) => fs.statSync(file).isFile())
    .map((file) => fs.readFileSync(file))
    .filter((pem) => pem.includes('-----BEGIN CERTIFICATE-----'));
}
