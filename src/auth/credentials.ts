/**
 * Where long-term keys come from. The engine asks one CredentialSource and does not know
 * whether the answer came from `user=` lines, the user database or a REST API secret.
 */
import type { StaticUser } from '../config/server-options.js';
import type { RestSecrets } from './rest-api.js';

/**
 * Candidate keys MD5(username:realm:password) for a user: several while REST secrets rotate.
 * `valid` is false for an unknown user or an expired REST name; the keys are still checked,
 * so that refusing costs the same work as accepting.
 */
export interface KeyLookup {
  readonly keys: readonly Buffer[];
  readonly valid: boolean;
}

export interface CredentialSource {
  keysFor(username: string, realm: string, nowMs: number): KeyLookup | Promise<KeyLookup>;
}

/** Looks up one user's key; undefined for an unknown user. */
export interface UserKeyStore {
  keyFor(username: string, realm: string): Buffer | undefined;
}

/** `user=name:password` and `user=name:0xKEY` lines, for the server's realm. */
export class StaticUsers implements UserKeyStore {
  private readonly keys: Map<string, Buffer>;

  constructor(
    users: readonly StaticUser[],
    private readonly realm: string,
  ) {
    this.keys = new Map(users.map((u) => [u.name, u.key]));
  }

  keyFor(username: string, realm: string): Buffer | undefined {
    return realm === this.realm ? this.keys.get(username) : undefined;
  }
}

const UNKNOWN: KeyLookup = { keys: [], valid: false };

/**
 * The server's credentials: a REST-form name (one carrying an expiry) is checked against the
 * secrets, any other name against the user stores in order (static users, then the database).
 * coturn ignores its users when REST secrets are on; Turnpike accepts both.
 */
export class Credentials implements CredentialSource {
  constructor(
    private readonly users: readonly UserKeyStore[],
    private readonly rest: RestSecrets | undefined,
  ) {}

  keysFor(username: string, realm: string, nowMs: number): KeyLookup {
    if (this.rest?.isRestUsername(username)) return this.rest.keysFor(username, realm, nowMs);
    for (const store of this.users) {
      const key = store.keyFor(username, realm);
      if (key) return { keys: [key], valid: true };
    }
    return UNKNOWN;
  }
}
