/**
 * A libpq connection record (config/pg-connection.ts) as the `pg` driver's settings, with
 * libpq's meaning of sslmode: disable, allow and prefer connect without TLS (the driver cannot
 * fall back from TLS to plain, and allow/prefer accept a plain connection anyway); require
 * encrypts without checking the certificate (unless sslrootcert is given: then as verify-ca);
 * verify-ca checks the chain; verify-full the chain and the host name.
 */
import fs from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { ClientConfig } from 'pg';
import type { PgConnection } from '../config/pg-connection.js';

export function pgClientConfig(c: PgConnection): ClientConfig {
  return {
    host: c.host,
    port: c.port,
    database: c.database,
    user: c.user,
    password: c.password,
    connectionTimeoutMillis: c.connectTimeoutSeconds > 0 ? c.connectTimeoutSeconds * 1000 : undefined,
    application_name: c.applicationName,
    ssl: tlsOf(c),
  };
}

function tlsOf(c: PgConnection): ConnectionOptions | false {
  if (c.sslMode === 'disable' || c.sslMode === 'allow' || c.sslMode === 'prefer') return false;
  const tls: ConnectionOptions = {};
  if (c.sslRootCert !== undefined) tls.ca = fs.readFileSync(c.sslRootCert);
  if (c.sslCert !== undefined) tls.cert = fs.readFileSync(c.sslCert);
  if (c.sslKey !== undefined) tls.key = fs.readFileSync(c.sslKey);
  if (c.sslMode === 'require' && c.sslRootCert === undefined) tls.rejectUnauthorized = false;
  else if (c.sslMode !== 'verify-full') tls.checkServerIdentity = () => undefined;
  return tls;
}
