/**
 * coturn's SQLite user database, in coturn's own schema, so that one file serves both
 * coturn's and Turnpike's `turnserver` and `turnadmin`. Every lookup reads the file, so
 * users and secrets added while the server runs count at once.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { LongTermKeys, UserKeyStore } from './credentials.js';
import { LastKnownAnswers } from './last-known.js';
import type { OAuthKeySource } from './oauth.js';
import { oauthKeyRowOf, type OAuthKeyRow } from './oauth-token.js';
import type { SecretSource } from './rest-api.js';

/** coturn 4.6's schema.sql, table for table. */
export const COTURN_SCHEMA = `
CREATE TABLE turnusers_lt (realm varchar(127) default '', name varchar(512), hmackey char(128), PRIMARY KEY (realm,name));
CREATE TABLE turn_secret (realm varchar(127) default '', value varchar(256), primary key (realm,value));
CREATE TABLE allowed_peer_ip (realm varchar(127) default '', ip_range varchar(256), primary key (realm,ip_range));
CREATE TABLE denied_peer_ip (realm varchar(127) default '', ip_range varchar(256), primary key (realm,ip_range));
CREATE TABLE turn_origin_to_realm (origin varchar(127), realm varchar(127), primary key (origin));
CREATE TABLE turn_realm_option (realm varchar(127) default '', opt varchar(32), value varchar(128), primary key (realm,opt));
CREATE TABLE oauth_key (kid varchar(128), ikm_key varchar(256), timestamp bigint default 0, lifetime integer default 0, as_rs_alg varchar(64) default '', realm varchar(127), primary key (kid));
CREATE TABLE admin_user (name varchar(32), realm varchar(127), password varchar(127), primary key (name));
`;

/**
 * How long a lookup waits for a concurrent writer (turnadmin commits in milliseconds). The
 * wait blocks the event loop, so it is short; past it, the last known answer is used.
 */
const BUSY_TIMEOUT_MS = 250;

export class UserDbError extends Error {
  override readonly name = 'UserDbError';
}

/**
 * Opens (creating it with coturn's schema when absent, as coturn does) the database at
 * `path`. The journal mode is left as the file has it: it belongs to the operator.
 */
export function openUserDb(path: string, options: { busyTimeoutMs?: number } = {}): DatabaseSync {
  // SQLite says only "unable to open database file".
  if (!existsSync(dirname(path))) throw new UserDbError(`cannot open user database ${path}: the directory does not exist`);
  // coturn adds its tables to an empty file too.
  const created = !existsSync(path) || statSync(path).size === 0;
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? BUSY_TIMEOUT_MS });
    if (created) db.exec(COTURN_SCHEMA);
    const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'turnusers_lt'").get();
    if (!table) throw new UserDbError(`${path} is not a coturn user database (it has no turnusers_lt table)`);
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof UserDbError) throw error;
    throw new UserDbError(`cannot open user database ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const HEX_KEY = /^[0-9a-fA-F]{32}$/;

/** The server's read side: user keys, REST secrets and oAuth keys. */
export class UserDb implements UserKeyStore, SecretSource, OAuthKeySource {
  private readonly userKey: StatementSync;
  private readonly secrets: StatementSync;
  private readonly realmOptionRows: StatementSync;
  /** Prepared at first use: a database made before coturn had oAuth has no such table. */
  private oauthKeyRow: StatementSync | undefined;

  constructor(
    private readonly db: DatabaseSync,
    private readonly onError: (message: string) => void = () => {},
    /** Answers while the file is busy or broken; shared with the other relay workers' databases. */
    private readonly lastKnown = new LastKnownAnswers(),
  ) {
    this.userKey = db.prepare('SELECT hmackey FROM turnusers_lt WHERE name = ? AND realm = ?');
    this.secrets = db.prepare('SELECT value FROM turn_secret WHERE realm = ?');
    this.realmOptionRows = db.prepare('SELECT opt, value FROM turn_realm_option WHERE realm = ?');
  }

  /** coturn's `hmackey`: an MD5 key only, so its users cannot choose SHA-256. */
  keysOf(username: string, realm: string): LongTermKeys | undefined {
    const result = this.read(() => this.userKey.get(username, realm) as { hmackey: string } | undefined);
    if (!result.ok) return this.lastKnown.keysOf(username, realm);
    const row = result.value;
    if (!row) {
      this.lastKnown.forgetKeys(username, realm);
      return undefined;
    }
    if (!HEX_KEY.test(row.hmackey)) {
      this.onError(`user database: the key of "${username}" in realm "${realm}" is not 32 hex digits; user refused`);
      return undefined;
    }
    const keys = { md5: Buffer.from(row.hmackey, 'hex') };
    this.lastKnown.learnKeys(username, realm, keys);
    return keys;
  }

  secretsFor(realm: string): readonly string[] {
    const result = this.read(() => (this.secrets.all(realm) as { value: string }[]).map((r) => r.value));
    if (!result.ok) return this.lastKnown.secretsOf(realm);
    this.lastKnown.learnSecrets(realm, result.value);
    return result.value;
  }

  /** The `oauth_key` row of `kid`; undefined when there is none or the database cannot say. */
  oauthKeyFor(kid: string): OAuthKeyRow | undefined {
    const result = this.read(() => {
      this.oauthKeyRow ??= this.db.prepare('SELECT ikm_key, timestamp, lifetime, as_rs_alg, realm FROM oauth_key WHERE kid = ?');
      return this.oauthKeyRow.get(kid) as Partial<Record<string, string | number | null>> | undefined;
    });
    const row = result.ok ? result.value : undefined;
    return row ? oauthKeyRowOf(kid, row) : undefined;
  }

  /** The realm's `max-bps`, `user-quota` and `total-quota` (turnadmin -g), where set. */
  realmOptions(realm: string): { maxBps?: number; userQuota?: number; totalQuota?: number } {
    const result = this.read(() => this.realmOptionRows.all(realm) as { opt: string; value: string }[]);
    const options: { maxBps?: number; userQuota?: number; totalQuota?: number } = {};
    for (const { opt, value } of result.ok ? result.value : []) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) continue;
      if (opt === 'max-bps') options.maxBps = n;
      else if (opt === 'user-quota') options.userQuota = n;
      else if (opt === 'total-quota') options.totalQuota = n;
    }
    return options;
  }

  close(): void {
    this.db.close();
  }

  /** A busy or broken database is reported and answered from what was last read, never thrown. */
  private read<T>(query: () => T): { ok: true; value: T } | { ok: false } {
    try {
      return { ok: true, value: query() };
    } catch (error) {
      this.onError(`user database: ${error instanceof Error ? error.message : String(error)}; using the last known answer`);
      return { ok: false };
    }
  }
}
