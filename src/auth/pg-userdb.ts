/**
 * coturn's PostgreSQL user database (`psql-userdb`): the lookups of sql-userdb.ts on a `pg`
 * pool. No LISTEN: coturn's turnadmin sends no NOTIFY, and every lookup is a query anyway.
 */
import pg from 'pg';
import { describePgConnection, type PgConnection } from '../config/pg-connection.js';
import { pgClientConfig } from './pg-client.js';
import type { LastKnownAnswers } from './last-known.js';
import type { RemoteUserDbLog } from './remote-userdb.js';
import { GIVE_UP_MS, numbered, POOL_SIZE, SqlUserDb } from './sql-userdb.js';

export function pgUserDb(connection: PgConnection, log: RemoteUserDbLog, timeoutMs?: number, lastKnown?: LastKnownAnswers): SqlUserDb {
  const config = pgClientConfig(connection);
  const pool = new pg.Pool({
    ...config,
    max: POOL_SIZE,
    connectionTimeoutMillis: Math.min(config.connectionTimeoutMillis ?? GIVE_UP_MS, GIVE_UP_MS),
    query_timeout: GIVE_UP_MS,
    idleTimeoutMillis: 30_000,
  });
  const db = new SqlUserDb(
    {
      kind: 'PostgreSQL',
      where: describePgConnection(connection),
      select: async (sql, values) => (await pool.query(numbered(sql), [...values])).rows,
      end: () => pool.end(),
    },
    log,
    timeoutMs,
    lastKnown,
  );
  // An idle connection the server closed (restart, shutdown): the pool drops it; not fatal.
  pool.on('error', (error: Error) => db.idleConnectionFailed(error.message));
  return db;
}
