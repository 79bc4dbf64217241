/** The user database turnadmin works on: Redis (-N), PostgreSQL (-e), else SQLite (-b FILE, or the first default file). */
import type { PgConnection } from '../config/pg-connection.js';
import { resolveDbPath, type Access } from './database.js';
import { SqliteConnection } from './sqlite-connection.js';
import { AdminStore, type UserStore } from './store.js';

export interface DatabaseChoice {
  /** -b FILE */
  readonly db: string | undefined;
  /** -e CONNECTION, or psql-userdb as the server's configuration has it. */
  readonly psql: string | PgConnection | undefined;
  /** -N CONNECTION. */
  readonly redis?: string;
}

export async function openStore(choice: DatabaseChoice, access: Access): Promise<UserStore> {
  if (choice.redis !== undefined) {
    const { RedisAdminStore } = await import('./redis-store.js');
    return RedisAdminStore.open(choice.redis);
  }
  if (choice.psql !== undefined) {
    // Loaded only for -e: every other turnadmin run starts without the driver.
    const { PgAdminConnection } = await import('./pg-admin-connection.js');
    return new AdminStore(await PgAdminConnection.open(choice.psql));
  }
  return new AdminStore(new SqliteConnection(resolveDbPath(choice.db, access), access));
}
