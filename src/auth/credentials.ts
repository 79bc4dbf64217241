/**
 * Where long-term keys come from. The engine asks one CredentialSource and does not know
 * whether the answer came from `user=` lines, the user database or a REST API secret.
 */
import type { StaticUser } from '../config/server-options.js';
import { userHash, type PasswordAlgorithm } from '../stun/integrity.js';
import type { RestSecrets } from './rest-api.js';

/**
 * Candidate keys H(username:realm:password), H the request's password algorithm: several
 * while REST secrets rotate. `valid` is false for an unknown user or an expired REST name;
 * the keys are still checked, so that refusing costs the same work as accepting.
 */
export interface KeyLookup {
  readonly keys: readonly Buffer[];
  readonly valid: boolean;
  /** The user exists but has only an MD5 key (`0x…`, a database `hmackey`): no SHA-256 key can be made. */
  readonly md5Only?: boolean;
}

export interface CredentialSource {
  keysFor(username: string, realm: string, nowMs: number, algorithm: PasswordAlgorithm): KeyLookup | Promise<KeyLookup>;
  /** The name whose USERHASH this is, for the users whose names are known in advance. */
  usernameForHash(userhash: Buffer, realm: string): string | undefined;
  /**
   * True when every user can be found by USERHASH, so that the nonce may set "Username
   * anonymity" (RFC 8489 clients then send USERHASH only): not with REST names or a database.
   */
  readonly resolvesEveryUserHash: boolean;
  /** True when every user has a SHA-256 key (no `0x…` user, no database): 401s may then offer SHA-256 first. */
  readonly everyUserHasSha256Key: boolean;
}

/** A user's keys: MD5 always, SHA-256 when the password is known. */
export interface LongTermKeys {
  readonly md5: Buffer;
  readonly sha256?: Buffer;
}

/** Looks up one user's keys; undefined for an unknown user. */
export interface UserKeyStore {
  keysOf(username: string, realm: string): LongTermKeys | undefined;
}

/** The lookup of a found user's keys for `algorithm`. */
export function lookupOf(keys: LongTermKeys, algorithm: PasswordAlgorithm): KeyLookup {
  const key = keys[algorithm];
  return key ? { keys: [key], valid: true } : { keys: [], valid: false, md5Only: true };
}

/** `user=name:password` and `user=name:0xKEY` lines, for the server's realm. */
export class StaticUsers implements UserKeyStore {
  private readonly keys: Map<string, LongTermKeys>;
  private readonly namesByHash: Map<string, string>;

  constructor(
    users: readonly StaticUser[],
    private readonly realm: string,
  ) {
    this.keys = new Map(users.map((u) => [u.name, { md5: u.key, sha256: u.sha256Key }]));
    this.namesByHash = new Map(users.map((u) => [userHash(u.name, realm).toString('hex'), u.name]));
  }

  keysOf(username: string, realm: string): LongTermKeys | undefined {
    return realm === this.realm ? this.keys.get(username) : undefined;
  }

  usernameForHash(userhash: Buffer, realm: string): string | undefined {
    return realm === this.realm ? this.namesByHash.get(userhash.toString('hex')) : undefined;
  }

  get allHaveSha256Keys(): boolean {
    for (const keys of this.keys.values()) if (!keys.sha256) return false;
    return true;
  }
}

const UNKNOWN: KeyLookup = { keys: [], valid: false };

/**
 * The server's credentials: a REST-form name (one carrying an expiry) is checked against the
 * secrets, any other name against the user stores in order (static users, then the database).
 * coturn ignores its users when REST secrets are on; Turnpike accepts both.
 */
export class Credentials implements CredentialSource {
  readonly resolvesEveryUserHash: boolean;
  readonly everyUserHasSha256Key: boolean;

  constructor(
    private readonly users: readonly [StaticUsers, ...UserKeyStore[]],
    private readonly rest: RestSecrets | undefined,
  ) {
    this.resolvesEveryUserHash = users.length === 1 && rest === undefined;
    this.everyUserHasSha256Key = users.length === 1 && users[0].allHaveSha256Keys;
  }

  keysFor(username: string, realm: string, nowMs: number, algorithm: PasswordAlgorithm = 'md5'): KeyLookup {
    if (this.rest?.isRestUsername(username)) return this.rest.keysFor(username, realm, nowMs, algorithm);
    for (const store of this.users) {
      const keys = store.keysOf(username, realm);
      if (keys) return lookupOf(keys, algorithm);
    }
    return UNKNOWN;
  }

  usernameForHash(userhash: Buffer, realm: string): string | undefined {
    return this.users[0].usernameForHash(userhash, realm);
  }
}
