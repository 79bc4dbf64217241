/**
 * The lines coturn 4.6.1's turnadmin prints for its listings, so that scripts which parse
 * them keep working (see docs/turnadmin.md). coturn also prints log lines such as
 * `0: : SQLite connection was closed.` on stdout after the data; Turnpike prints only the data.
 */
import type { NameRealm, OriginRow, RealmOptionRow, SecretRow } from './store.js';

// A NULL column: coturn's printf would show "(null)"; an empty string is the honest reading.
const text = (value: string | null | undefined) => value ?? '';

/** -l: `name[realm]`. */
export function userLines(rows: readonly NameRealm[]): string[] {
  return rows.map((r) => `${text(r.name)}[${text(r.realm)}]`);
}

/** -L: `name[realm]`, or just `name` for an admin user of no realm. */
export function adminUserLines(rows: readonly NameRealm[]): string[] {
  return rows.map((r) => (text(r.realm) !== '' ? `${text(r.name)}[${text(r.realm)}]` : text(r.name)));
}

/** -S: `secret[realm]`. */
export function secretLines(rows: readonly SecretRow[]): string[] {
  return rows.map((r) => `${text(r.value)}[${text(r.realm)}]`);
}

/** -I: `origin ==>> realm`. */
export function originLines(rows: readonly OriginRow[]): string[] {
  return rows.map((r) => `${text(r.origin)} ==>> ${text(r.realm)}`);
}

/** -G: `option[realm]=value`; coturn's Redis driver prints `realm/option = value`. */
export function realmOptionLines(rows: readonly RealmOptionRow[], kind: 'sqlite' | 'postgresql' | 'mysql' | 'redis'): string[] {
  return kind === 'redis'
    ? rows.map((r) => `${r.realm}/${r.opt} = ${r.value}`)
    : rows.map((r) => `${text(r.opt)}[${text(r.realm)}]=${text(r.value)}`);
}

/** -k: `0x` and the 32 lowercase hex digits of the key. */
export function keyLine(key: Buffer): string {
  return `0x${key.toString('hex')}`;
}
