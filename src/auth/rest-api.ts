/**
 * TURN REST API credentials (draft-uberti-behave-turn-rest, as coturn implements it): the
 * username carries an expiry timestamp, the password is base64(HMAC-SHA1(secret, username)).
 * Several secrets may be valid at once while they rotate.
 */
import { createHmac } from 'node:crypto';
import { longTermKey, type PasswordAlgorithm } from '../stun/integrity.js';
import type { KeyLookup } from './credentials.js';

export function restPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/**
 * The expiry (Unix seconds) in a REST username, in the forms coturn accepts: `expiry`,
 * `expiry<sep>user`, and `user<sep>expiry`; undefined when the name carries none.
 */
export function restExpiry(username: string, separator: string): number | undefined {
  const digits = /^\d+$/;
  const at = username.indexOf(separator);
  if (at < 0) return digits.test(username) ? Number(username) : undefined;
  const before = username.slice(0, at);
  const after = username.slice(at + separator.length);
  if (digits.test(before)) return Number(before);
  const afterNumber = /^\d+/.exec(after);
  return afterNumber ? Number(afterNumber[0]) : undefined;
}

export interface SecretSource {
  secretsFor(realm: string): readonly string[];
}

export class RestSecrets {
  constructor(
    private readonly secrets: SecretSource,
    private readonly separator: string,
  ) {}

  isRestUsername(username: string): boolean {
    return restExpiry(username, this.separator) !== undefined;
  }

  /** Keys for every secret, computed for expired names too so that expiry costs the same work. */
  keysFor(username: string, realm: string, nowMs: number, algorithm: PasswordAlgorithm = 'md5'): KeyLookup {
    const expiry = restExpiry(username, this.separator);
    const keys = this.secrets.secretsFor(realm).map((secret) => longTermKey(username, realm, restPassword(secret, username), algorithm));
    const valid = expiry !== undefined && expiry * 1000 >= nowMs && keys.length > 0;
    return { keys, valid };
  }
}
