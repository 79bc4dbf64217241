/**
 * Credentials for the self-test page from a TURN REST API secret, as `turnpike admin
 * credentials` makes them: `<expiry><separator><user>` and base64(HMAC-SHA1(secret, name)).
 */
import { restPassword } from '../auth/rest-api.js';
import type { SelfTestCredentials } from './self-test-page.js';

export interface RestMinterOptions {
  /** The secret, or where to read the current one (the userdb's, which can rotate). */
  readonly secret: string | (() => string | undefined);
  /** `rest-api-separator`, ':' by default. */
  readonly separator?: string;
  /** Short: the page uses them at once. */
  readonly ttlSeconds?: number;
  readonly user?: string;
  readonly now?: () => number;
}

export function restCredentialsMinter(options: RestMinterOptions): () => SelfTestCredentials {
  const { secret, separator = ':', ttlSeconds = 600, user = 'turnpike-self-test', now = Date.now } = options;
  return () => {
    const current = typeof secret === 'function' ? secret() : secret;
    if (current === undefined) throw new Error('no REST API secret is configured');
    const username = `${Math.floor(now() / 1000) + ttlSeconds}${separator}${user}`;
    return { username, password: restPassword(current, username) };
  };
}
