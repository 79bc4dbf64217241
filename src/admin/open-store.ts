/** The user database turnadmin works on: PostgreSQL (-e), else SQLite (-b FILE, or the first default file). */
import type { PgConnection } from '../config/pg-connection.js';
import { resolveDbPath, type Access } from './database.js';
import { SqliteConnection } from './sqlite-connection.js';
import { AdminStore } from './store.js';

export interface DatabaseChoice {
  /** -b FILE */
  readonly db: string | undefined;
  /** -e CONNECTION, or psql-userdb as the server's configuration has it. */
  readonly psql: string | PgConnection | undefined;
}

export async function openStore(choice: DatabaseChoice, access: Access): Promise<AdminStore> {
  if (choice.psql !== undefined) {
    // Loaded only for -e: every other turnadmin run starts without the driver.
    const { PgAdminConnection } = await import('./pg-admin-connection.js');
    return new AdminStore(await PgAdminConnection.open(choice.psql));
  }
  return new AdminStore(new SqliteConnection(resolveDbPath(choice.db, access), access));
}
