/**
 * turnadmin's reads and writes on coturn's tables, one code path for every database: the
 * statements (and sort orders) of coturn 4.6.1's drivers, bound rather than pasted into the
 * SQL text. What differs between SQLite, PostgreSQL and MySQL (placeholders, "replace", the
 * order rows were added in) is the connection's dialect (sqlite-connection.ts,
 * pg-admin-connection.ts, mysql-admin-connection.ts).
 */
import type { AdminError } from './errors.js';
import type { RealmOption } from './request.js';

export interface NameRealm {
  readonly name: string;
  readonly realm: string;
}
export interface SecretRow {
  readonly value: string;
  readonly realm: string;
}
export interface OriginRow {
  readonly origin: string;
  readonly realm: string;
}
export interface RealmOptionRow {
  readonly realm: string;
  readonly opt: string;
  readonly value: string;
}

/** One open connection to a user database, in its own SQL dialect. */
export interface SqlConnection {
  readonly dialect: 'sqlite' | 'postgresql' | 'mysql';
  /** Names the database in messages (a file, or a URI without its password). */
  readonly where: string;
  /** Runs a statement with `?` placeholders; the number of rows it changed. */
  run(sql: string, params: readonly string[]): Promise<number>;
  all<T>(sql: string, params: readonly string[]): Promise<T[]>;
  /** Runs `fn` in one transaction: all of its writes, or none. */
  transaction(fn: () => Promise<void>): Promise<void>;
  /** Any error from this database, as an AdminError a person can act on. */
  errorOf(error: unknown): AdminError;
  close(): Promise<void>;
}

/** A row added, or the row with the same key replaced (coturn: INSERT OR REPLACE; PostgreSQL, MySQL: an upsert). */
function upsert(conn: SqlConnection, table: string, columns: readonly string[], key: readonly string[]): string {
  const values = `(${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
  if (conn.dialect === 'sqlite') return `INSERT OR REPLACE INTO ${table} ${values}`;
  const rest = columns.filter((c) => !key.includes(c));
  if (conn.dialect === 'mysql') {
    // VALUES(c): MariaDB has no row alias; a key-only row is left as it is.
    const set = rest.length > 0 ? rest.map((c) => `${c} = VALUES(${c})`) : [`${key[0]} = ${key[0]}`];
    return `INSERT INTO ${table} ${values} ON DUPLICATE KEY UPDATE ${set.join(', ')}`;
  }
  const update = rest.length > 0 ? `DO UPDATE SET ${rest.map((c) => `${c} = excluded.${c}`).join(', ')}` : 'DO NOTHING';
  return `INSERT INTO ${table} ${values} ON CONFLICT (${key.join(', ')}) ${update}`;
}

/** What turnadmin's commands work on: AdminStore over SQL, RedisAdminStore (redis-store.ts) over Redis. */
export type UserStore = { readonly [K in keyof AdminStore]: AdminStore[K] };

export class AdminStore {
  constructor(private readonly conn: SqlConnection) {}

  /** Which database: listings differ where coturn's drivers print them differently. */
  get kind(): SqlConnection['dialect'] | 'redis' {
    return this.conn.dialect;
  }

  get where(): string {
    return this.conn.where;
  }

  errorOf(error: unknown): AdminError {
    return this.conn.errorOf(error);
  }

  close(): Promise<void> {
    return this.conn.close();
  }

  /** `hmackey`: 32 lowercase hex digits, as coturn writes it. Same name and realm: replaced. */
  async setUserKey(name: string, realm: string, hmackey: string): Promise<void> {
    await this.conn.run(upsert(this.conn, 'turnusers_lt', ['realm', 'name', 'hmackey'], ['realm', 'name']), [realm, name, hmackey]);
  }

  /** Whether there was such a user. */
  async deleteUser(name: string, realm: string): Promise<boolean> {
    return (await this.conn.run('DELETE FROM turnusers_lt WHERE name = ? AND realm = ?', [name, realm])) > 0;
  }

  users(realm: string | undefined): Promise<NameRealm[]> {
    return realm
      ? this.conn.all('SELECT name, realm FROM turnusers_lt WHERE realm = ? ORDER BY name', [realm])
      : this.conn.all('SELECT name, realm FROM turnusers_lt ORDER BY realm, name', []);
  }

  async setAdminUser(name: string, realm: string, encryptedPassword: string): Promise<void> {
    await this.conn.run(upsert(this.conn, 'admin_user', ['realm', 'name', 'password'], ['name']), [realm, name, encryptedPassword]);
  }

  async deleteAdminUser(name: string): Promise<boolean> {
    return (await this.conn.run('DELETE FROM admin_user WHERE name = ?', [name])) > 0;
  }

  /** coturn lists every admin user whatever -r says. */
  adminUsers(): Promise<NameRealm[]> {
    return this.conn.all('SELECT name, realm FROM admin_user ORDER BY realm, name', []);
  }

  /** An admin user's encrypted password and realm ('' for every realm), to check a login. */
  async adminUser(name: string): Promise<{ password: string; realm: string } | undefined> {
    return (await this.conn.all<{ password: string; realm: string }>('SELECT password, realm FROM admin_user WHERE name = ?', [name]))[0];
  }

  async adminPassword(name: string): Promise<string | undefined> {
    return (await this.adminUser(name))?.password;
  }

  async addSecret(value: string, realm: string): Promise<void> {
    await this.conn.run(upsert(this.conn, 'turn_secret', ['realm', 'value'], ['realm', 'value']), [realm, value]);
  }

  async deleteSecret(value: string, realm: string): Promise<boolean> {
    return (await this.conn.run('DELETE FROM turn_secret WHERE value = ? AND realm = ?', [value, realm])) > 0;
  }

  deleteAllSecrets(realm: string): Promise<number> {
    return this.conn.run('DELETE FROM turn_secret WHERE realm = ?', [realm]);
  }

  secrets(realm: string | undefined): Promise<SecretRow[]> {
    return realm
      ? this.conn.all('SELECT value, realm FROM turn_secret WHERE realm = ? ORDER BY value', [realm])
      : this.conn.all('SELECT value, realm FROM turn_secret ORDER BY realm, value', []);
  }

  /** The realm's secrets in the order they were added (the order the server reads them; PostgreSQL, MySQL: their table order). */
  async secretsInOrder(realm: string): Promise<string[]> {
    const order = this.conn.dialect === 'sqlite' ? ' ORDER BY rowid' : '';
    return (await this.conn.all<{ value: string }>(`SELECT value FROM turn_secret WHERE realm = ?${order}`, [realm])).map((r) => r.value);
  }

  async addOrigin(origin: string, realm: string): Promise<void> {
    await this.conn.run(upsert(this.conn, 'turn_origin_to_realm', ['origin', 'realm'], ['origin']), [origin, realm]);
  }

  async deleteOrigin(origin: string): Promise<boolean> {
    return (await this.conn.run('DELETE FROM turn_origin_to_realm WHERE origin = ?', [origin])) > 0;
  }

  origins(realm: string | undefined): Promise<OriginRow[]> {
    return realm
      ? this.conn.all('SELECT origin, realm FROM turn_origin_to_realm WHERE realm = ? ORDER BY origin', [realm])
      : this.conn.all('SELECT origin, realm FROM turn_origin_to_realm ORDER BY realm, origin', []);
  }

  /** Stored as text, as coturn stores it ('%lu' in quotes). */
  async setRealmOption(realm: string, opt: RealmOption, value: string): Promise<void> {
    await this.conn.run(upsert(this.conn, 'turn_realm_option', ['realm', 'opt', 'value'], ['realm', 'opt']), [realm, opt, value]);
  }

  async deleteRealmOption(realm: string, opt: RealmOption): Promise<boolean> {
    return (await this.conn.run('DELETE FROM turn_realm_option WHERE realm = ? AND opt = ?', [realm, opt])) > 0;
  }

  realmOptions(realm: string | undefined): Promise<RealmOptionRow[]> {
    return realm
      ? this.conn.all('SELECT realm, opt, value FROM turn_realm_option WHERE realm = ? ORDER BY realm, opt', [realm])
      : this.conn.all('SELECT realm, opt, value FROM turn_realm_option ORDER BY realm, opt', []);
  }

  /** Several writes that stand or fall together (one -g with several options). */
  transaction(fn: () => Promise<void>): Promise<void> {
    return this.conn.transaction(fn);
  }
}
