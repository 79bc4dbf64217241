/**
 * turnadmin's connection to coturn's PostgreSQL user database (`-e CONNECTION`): one client,
 * so that a transaction's statements share it. Errors name the database (never its password)
 * and say what to do: a database without coturn's schema, one that does not answer.
 */
import pg from 'pg';
import { pgClientConfig } from '../auth/pg-client.js';
import { describePgConnection, parsePgConnection, type PgConnection } from '../config/pg-connection.js';
import { COTURN_SCHEMA_FILE } from './database.js';
import { AdminError } from './errors.js';
import type { SqlConnection } from './store.js';

/** turnadmin does not wait forever for a server that does not answer (connect_timeout overrides). */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** PostgreSQL's SQLSTATE for "relation does not exist". */
const UNDEFINED_TABLE = '42P01';

export class PgAdminConnection implements SqlConnection {
  readonly dialect = 'postgresql';

  private constructor(
    readonly where: string,
    private readonly client: pg.Client,
  ) {}

  /** `given`: the -e text, or psql-userdb as the server's configuration has it. */
  static async open(given: string | PgConnection): Promise<PgAdminConnection> {
    const connection = typeof given === 'string' ? parsed(given) : given;
    const where = describePgConnection(connection);
    const config = pgClientConfig(connection);
    const client = new pg.Client({ ...config, connectionTimeoutMillis: config.connectionTimeoutMillis ?? DEFAULT_CONNECT_TIMEOUT_MS });
    client.on('error', () => {}); // a dropped connection fails the statement that is running
    const conn = new PgAdminConnection(where, client);
    try {
      await client.connect();
    } catch (error) {
      throw conn.errorOf(error);
    }
    return conn;
  }

  async run(sql: string, params: readonly string[]): Promise<number> {
    return (await this.client.query(numbered(sql), [...params])).rowCount ?? 0;
  }

  async all<T>(sql: string, params: readonly string[]): Promise<T[]> {
    return (await this.client.query(numbered(sql), [...params])).rows as T[];
  }

  async transaction(fn: () => Promise<void>): Promise<void> {
    await this.client.query('BEGIN');
    try {
      await fn();
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  errorOf(error: unknown): AdminError {
    if (error instanceof AdminError) return error;
    const message = error instanceof Error ? error.message || String((error as { code?: unknown }).code ?? error) : String(error);
    if ((error as { code?: unknown }).code === UNDEFINED_TABLE) {
      return new AdminError(`user database ${this.where}: ${message} (it does not have coturn's schema: psql -f ${COTURN_SCHEMA_FILE})`);
    }
    return new AdminError(`user database ${this.where}: ${message}`);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}

function parsed(text: string): PgConnection {
  const result = parsePgConnection(text);
  if (!result.connection) throw new AdminError(`-e: ${result.error}`);
  return result.connection;
}

/** `?` placeholders as PostgreSQL's `$1, $2, …` (the statements have no `?` inside literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
