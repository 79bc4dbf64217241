/**
 * coturn's MySQL/MariaDB user database (`mysql-userdb`): the lookups of sql-userdb.ts on a
 * `mysql2` pool. coturn's read_timeout bounds each query (as MYSQL_OPT_READ_TIMEOUT does).
 */
import mysql from 'mysql2';
import { describeMysqlConnection, type MysqlConnection } from '../config/mysql-connection.js';
import { mysqlClientConfig } from './mysql-client.js';
import type { LastKnownAnswers } from './last-known.js';
import type { RemoteUserDbLog } from './remote-userdb.js';
import { GIVE_UP_MS, POOL_SIZE, SqlUserDb } from './sql-userdb.js';

export function mysqlUserDb(connection: MysqlConnection, log: RemoteUserDbLog, timeoutMs?: number, lastKnown?: LastKnownAnswers): SqlUserDb {
  const config = mysqlClientConfig(connection);
  const pool = mysql
    .createPool({
      ...config,
      connectionLimit: POOL_SIZE,
      connectTimeout: Math.min(config.connectTimeout ?? GIVE_UP_MS, GIVE_UP_MS),
      idleTimeout: 30_000,
      enableKeepAlive: true,
    })
    .promise();
  const queryTimeout = connection.readTimeoutSeconds > 0 ? Math.min(connection.readTimeoutSeconds * 1000, GIVE_UP_MS) : GIVE_UP_MS;
  return new SqlUserDb(
    {
      kind: 'MySQL',
      where: describeMysqlConnection(connection),
      select: async <R>(sql: string, values: readonly string[]) => (await pool.query({ sql, values: [...values], timeout: queryTimeout }))[0] as R[],
      end: () => pool.end(),
    },
    log,
    timeoutMs,
    lastKnown,
  );
}
