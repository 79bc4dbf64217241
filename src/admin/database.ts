/**
 * Finding and opening the SQLite user database for turnadmin, with messages a person can act
 * on: a missing file for a command that only reads, a file that is not coturn's, a database
 * another process holds locked (turnadmin waits 1 s for it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { UserDbError, openUserDb } from '../auth/userdb.js';
import { AdminError } from './errors.js';

/** coturn's list, as its `-h` gives it; Debian's build uses only the last. */
export const DEFAULT_DB_PATHS: readonly string[] = [
  '/var/db/turndb',
  '/usr/local/var/db/turndb',
  '/var/lib/turn/turndb',
];

export type Access = 'read' | 'write';

/**
 * `-b FILE` (a leading `~` is the home folder, as in coturn), else the first default that
 * exists; to write, else the first default whose folder exists (the file is created there).
 */
export function resolveDbPath(
  given: string | undefined,
  access: Access,
  candidates: readonly string[] = DEFAULT_DB_PATHS,
): string {
  if (given !== undefined) {
    if (given.trim() === '') throw new AdminError('-b: the database file name is empty');
    return given.replace(/^\s*~(?=$|\/)/, os.homedir());
  }
  const existing = candidates.find((p) => fs.existsSync(p));
  if (existing !== undefined) return existing;
  const creatable = access === 'write' ? candidates.find((p) => fs.existsSync(path.dirname(p))) : undefined;
  if (creatable !== undefined) return creatable;
  throw new AdminError(`no user database found (looked for ${candidates.join(', ')}); give one with -b FILE`);
}

/** coturn's schema, which a PostgreSQL user database must be given (turnadmin -e does not create it, as coturn's does not). */
export const COTURN_SCHEMA_FILE = '/usr/share/coturn/schema.sql';

/** How long turnadmin waits for another process's lock, at open and on each statement. */
export const ADMIN_BUSY_TIMEOUT_MS = 1000;

/** Opens the database; `read` refuses a missing file where coturn would create an empty one. */
export function openDatabase(file: string, access: Access): DatabaseSync {
  if (access === 'read' && !fs.existsSync(file)) {
    throw new AdminError(`user database ${file} does not exist`);
  }
  try {
    return openUserDb(file, { busyTimeoutMs: ADMIN_BUSY_TIMEOUT_MS });
  } catch (error) {
    throw databaseError(file, error);
  }
}

const SQLITE_BUSY = 5;
const SQLITE_READONLY = 8;

/** SQLite's primary result code, which node:sqlite gives as `errcode` (possibly extended). */
function sqliteCode(error: unknown): number | undefined {
  const errcode = (error as { errcode?: unknown }).errcode;
  return typeof errcode === 'number' ? errcode & 0xff : undefined;
}

function isLocked(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return sqliteCode(error) === SQLITE_BUSY || /database is locked/i.test(message);
}

/** Any error from opening or using the database, as an AdminError that names the file. */
export function databaseError(file: string, error: unknown): AdminError {
  const message = error instanceof Error ? error.message : String(error);
  if (isLocked(error)) {
    return new AdminError(`user database ${file} is locked by another process (waited 1 s); try again`);
  }
  if (error instanceof UserDbError) return new AdminError(message);
  if (/no such table/i.test(message)) {
    return new AdminError(`user database ${file}: ${message} (it does not have coturn 4.6's schema)`);
  }
  if (sqliteCode(error) === SQLITE_READONLY || /readonly/i.test(message)) {
    return new AdminError(`user database ${file} is read-only for this user: ${message}`);
  }
  return new AdminError(`user database ${file}: ${message}`);
}
