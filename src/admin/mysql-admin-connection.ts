/**
 * turnadmin's connection to coturn's MySQL/MariaDB user database (`-M CONNECTION`): one
 * connection, so that a transaction's statements share it. Errors name the database (never its
 * password) and say what to do: a database without coturn's schema, one that does not answer.
 */
import mysql from 'mysql2/promise';
import type { ResultSetHeader } from 'mysql2';
import { mysqlClientConfig } from '../auth/mysql-client.js';
import { describeMysqlConnection, parseMysqlConnection, type MysqlConnection } from '../config/mysql-connection.js';
import { COTURN_SCHEMA_FILE } from './database.js';
import { AdminError } from './errors.js';
import type { SqlConnection } from './store.js';

/** turnadmin does not wait forever for a server that does not answer (connect_timeout overrides). */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** MySQL's error for "table doesn't exist". */
const NO_SUCH_TABLE = 'ER_NO_SUCH_TABLE';

export class MysqlAdminConnection implements SqlConnection {
  readonly dialect = 'mysql';

  private constructor(
    readonly where: string,
    private readonly readTimeoutMs: number | undefined,
    private connection: mysql.Connection | undefined,
  ) {}

  /** `given`: the -M text, or mysql-userdb as the server's configuration has it. */
  static async open(given: string | MysqlConnection): Promise<MysqlAdminConnection> {
    const c = typeof given === 'string' ? parsed(given) : given;
    const conn = new MysqlAdminConnection(describeMysqlConnection(c), c.readTimeoutSeconds > 0 ? c.readTimeoutSeconds * 1000 : undefined, undefined);
    const config = mysqlClientConfig(c);
    try {
      conn.connection = await mysql.createConnection({ ...config, connectTimeout: config.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS });
    } catch (error) {
      throw conn.errorOf(error);
    }
    conn.connection.on('error', () => {}); // a dropped connection fails the statement that is running
    return conn;
  }

  async run(sql: string, params: readonly string[]): Promise<number> {
    return ((await this.query(sql, params)) as ResultSetHeader).affectedRows;
  }

  async all<T>(sql: string, params: readonly string[]): Promise<T[]> {
    return (await this.query(sql, params)) as T[];
  }

  async transaction(fn: () => Promise<void>): Promise<void> {
    await this.connection!.beginTransaction();
    try {
      await fn();
      await this.connection!.commit();
    } catch (error) {
      await this.connection!.rollback().catch(() => {});
      throw error;
    }
  }

  errorOf(error: unknown): AdminError {
    if (error instanceof AdminError) return error;
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message || String(code ?? error) : String(error);
    if (code === NO_SUCH_TABLE) {
      return new AdminError(`user database ${this.where}: ${message} (it does not have coturn's schema: mysql DATABASE < ${COTURN_SCHEMA_FILE})`);
    }
    return new AdminError(`user database ${this.where}: ${message}`);
  }

  async close(): Promise<void> {
    await this.connection?.end().catch(() => {});
  }

  private async query(sql: string, params: readonly string[]): Promise<unknown> {
    return (await this.connection!.query({ sql, values: [...params], timeout: this.readTimeoutMs }))[0];
  }
}

function parsed(text: string): MysqlConnection {
  const result = parseMysqlConnection(text);
  if (!result.connection) throw new AdminError(`-M: ${result.error}`);
  return result.connection;
}
