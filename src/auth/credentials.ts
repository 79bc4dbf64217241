/**
 * Where long-term keys come from. The engine asks one CredentialSource and does not know
 * whether the answer came from `user=` lines, a user database or a REST API secret.
 */
import type { StaticUser } from '../config/server-options.js';

export interface CredentialSource {
  /** MD5(username:realm:password), or undefined for an unknown user. */
  keyFor(username: string, realm: string): Buffer | undefined | Promise<Buffer | undefined>;
}

/** `user=name:password` and `user=name:0xKEY` lines, for the server's realm. */
export class StaticUsers implements CredentialSource {
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
