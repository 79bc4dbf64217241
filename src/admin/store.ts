/**
 * turnadmin's reads and writes on coturn's tables, with the statements (and sort orders) of
 * coturn 4.6.1's SQLite driver, but bound rather than pasted into the SQL text.
 */
import type { DatabaseSync } from 'node:sqlite';
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

export class AdminStore {
  constructor(private readonly db: DatabaseSync) {}

  close(): void {
    this.db.close();
  }

  /** `hmackey`: 32 lowercase hex digits, as coturn writes it. Same name and realm: replaced. */
  setUserKey(name: string, realm: string, hmackey: string): void {
    this.run('INSERT OR REPLACE INTO turnusers_lt (realm, name, hmackey) VALUES (?, ?, ?)', realm, name, hmackey);
  }

  /** Whether there was such a user. */
  deleteUser(name: string, realm: string): boolean {
    return this.run('DELETE FROM turnusers_lt WHERE name = ? AND realm = ?', name, realm) > 0;
  }

  users(realm: string | undefined): NameRealm[] {
    return realm
      ? this.all('SELECT name, realm FROM turnusers_lt WHERE realm = ? ORDER BY name', realm)
      : this.all('SELECT name, realm FROM turnusers_lt ORDER BY realm, name');
  }

  setAdminUser(name: string, realm: string, encryptedPassword: string): void {
    const sql = 'INSERT OR REPLACE INTO admin_user (realm, name, password) VALUES (?, ?, ?)';
    this.run(sql, realm, name, encryptedPassword);
  }

  deleteAdminUser(name: string): boolean {
    return this.run('DELETE FROM admin_user WHERE name = ?', name) > 0;
  }

  /** coturn lists every admin user whatever -r says. */
  adminUsers(): NameRealm[] {
    return this.all('SELECT name, realm FROM admin_user ORDER BY realm, name');
  }

  /** An admin user's encrypted password and realm ('' for every realm), to check a login. */
  adminUser(name: string): { password: string; realm: string } | undefined {
    return this.all<{ password: string; realm: string }>('SELECT password, realm FROM admin_user WHERE name = ?', name)[0];
  }

  adminPassword(name: string): string | undefined {
    return this.all<{ password: string }>('SELECT password FROM admin_user WHERE name = ?', name)[0]?.password;
  }

  addSecret(value: string, realm: string): void {
    this.run('INSERT OR REPLACE INTO turn_secret (realm, value) VALUES (?, ?)', realm, value);
  }

  deleteSecret(value: string, realm: string): boolean {
    return this.run('DELETE FROM turn_secret WHERE value = ? AND realm = ?', value, realm) > 0;
  }

  deleteAllSecrets(realm: string): number {
    return this.run('DELETE FROM turn_secret WHERE realm = ?', realm);
  }

  secrets(realm: string | undefined): SecretRow[] {
    return realm
      ? this.all('SELECT value, realm FROM turn_secret WHERE realm = ? ORDER BY value', realm)
      : this.all('SELECT value, realm FROM turn_secret ORDER BY realm, value');
  }

  /** The realm's secrets in the order they were added (the order the server reads them). */
  secretsInOrder(realm: string): string[] {
    return this.all<{ value: string }>('SELECT value FROM turn_secret WHERE realm = ? ORDER BY rowid', realm).map(
      (r) => r.value,
    );
  }

  addOrigin(origin: string, realm: string): void {
    this.run('INSERT OR REPLACE INTO turn_origin_to_realm (origin, realm) VALUES (?, ?)', origin, realm);
  }

  deleteOrigin(origin: string): boolean {
    return this.run('DELETE FROM turn_origin_to_realm WHERE origin = ?', origin) > 0;
  }

  origins(realm: string | undefined): OriginRow[] {
    return realm
      ? this.all('SELECT origin, realm FROM turn_origin_to_realm WHERE realm = ? ORDER BY origin', realm)
      : this.all('SELECT origin, realm FROM turn_origin_to_realm ORDER BY realm, origin');
  }

  /** Stored as text, as coturn stores it ('%lu' in quotes). */
  setRealmOption(realm: string, opt: RealmOption, value: string): void {
    this.run('INSERT OR REPLACE INTO turn_realm_option (realm, opt, value) VALUES (?, ?, ?)', realm, opt, value);
  }

  deleteRealmOption(realm: string, opt: RealmOption): boolean {
    return this.run('DELETE FROM turn_realm_option WHERE realm = ? AND opt = ?', realm, opt) > 0;
  }

  realmOptions(realm: string | undefined): RealmOptionRow[] {
    return realm
      ? this.all('SELECT realm, opt, value FROM turn_realm_option WHERE realm = ? ORDER BY realm, opt', realm)
      : this.all('SELECT realm, opt, value FROM turn_realm_option ORDER BY realm, opt');
  }

  /** Several writes that stand or fall together (one -g with several options). */
  transaction(fn: () => void): void {
    this.db.exec('BEGIN');
    try {
      fn();
      this.db.exec('COMMIT');
    } catch (error) {
      // A failed statement may have ended the transaction already.
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  private run(sql: string, ...params: string[]): number {
    return Number(this.db.prepare(sql).run(...params).changes);
  }

  private all<T = never>(sql: string, ...params: string[]): T[] {
    return this.db.prepare(sql).all(...params) as T[];
  }
}
