/** turnadmin's connection to coturn's SQLite user database (`-b FILE`). */
import type { DatabaseSync } from 'node:sqlite';
import { databaseError, openDatabase, type Access } from './database.js';
import type { AdminError } from './errors.js';
import type { SqlConnection } from './store.js';

export class SqliteConnection implements SqlConnection {
  readonly dialect = 'sqlite';
  private readonly db: DatabaseSync;

  constructor(
    readonly where: string,
    access: Access,
  ) {
    this.db = openDatabase(where, access);
  }

  async run(sql: string, params: readonly string[]): Promise<number> {
    return Number(this.db.prepare(sql).run(...params).changes);
  }

  async all<T>(sql: string, params: readonly string[]): Promise<T[]> {
    return this.db.prepare(sql).all(...params) as T[];
  }

  async transaction(fn: () => Promise<void>): Promise<void> {
    this.db.exec('BEGIN');
    try {
      await fn();
      this.db.exec('COMMIT');
    } catch (error) {
      // A failed statement may have ended the transaction already.
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  errorOf(error: unknown): AdminError {
    return databaseError(this.where, error);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
