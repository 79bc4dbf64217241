/** The user database turnadmin works on: Redis (-N), PostgreSQL (-e), MySQL (-M), else SQLite (-b FILE, or the first default file). */
import type { MysqlConnection } from '../config/mysql-connection.js';
import type { PgConnection } from '../config/pg-connection.js';
import type { RedisConnection } from '../config/redis-connection.js';
import { resolveDbPath, type Access } from './database.js';
import { SqliteConnection } from './sqlite-connection.js';
import { AdminStore, type UserStore } from './store.js';

export interface DatabaseChoice {
  /** -b FILE */
  readonly db: string | undefined;
  /** -e CONNECTION, or psql-userdb as the server's configuration has it. */
  readonly psql: string | PgConnection | undefined;
  /** -M CONNECTION, or mysql-userdb as the server's configuration has it. */
  readonly mysql?: string | MysqlConnection | undefined;
  /** -N CONNECTION, or redis-userdb as the server's configuration has it. */
  readonly redis?: string | RedisConnection;
}

export async function openStore(choice: DatabaseChoice, access: Access): Promise<UserStore> {
  // The drivers are loaded only for -N, -e and -M: every other turnadmin run starts without them.
  if (choice.redis !== undefined) {
    const { RedisAdminStore } = await import('./redis-store.js');
    return RedisAdminStore.open(choice.redis);
  }
  if (choice.psql !== undefined) {
    const { PgAdminConnection } = await import('./pg-admin-connection.js');
    return new AdminStore(await PgAdminConnection.open(choice.psql));
  }
  if (choice.mysql !== undefined) {
    const { MysqlAdminConnection } = await import('./mysql-admin-connection.js');
    return new AdminStore(await MysqlAdminConnection.open(choice.mysql));
  }
  return new AdminStore(new SqliteConnection(resolveDbPath(choice.db, access), access));
}
