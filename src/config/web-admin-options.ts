/**
 * The web admin page's options (`web-admin`, `web-admin-ip`, `web-admin-port`): HTTPS with the
 * server's cert and pkey, plain HTTP only on loopback (a login must not cross a network in
 * clear text), and a warning when no one could log in.
 */
import { isLoopback, readToken } from './admin-options.js';
import { ConfigError, located, type Origin } from './errors.js';
import type { TlsOptions, WebAdminOptions } from './server-options.js';
import type { Settings } from './settings.js';

const DEFAULT_ADDRESS = '127.0.0.1';
const DEFAULT_PORT = 8080;

export function webAdminOptions(s: Settings, tls: TlsOptions, userDb: string | undefined, warnings: string[], errors: ConfigError[]): WebAdminOptions | undefined {
  const at = (name: string): Origin => s.last(name)?.origin ?? {};
  if (!s.flag('web-admin')) {
    for (const name of ['web-admin-ip', 'web-admin-port']) {
      if (s.has(name)) warnings.push(located(at(name), `${name} has no effect without web-admin`));
    }
    return undefined;
  }
  const address = s.string('web-admin-ip') ?? DEFAULT_ADDRESS;
  const https = tls.cert !== undefined && tls.pkey !== undefined;
  if (!https && !isLoopback(address)) {
    errors.push(
      new ConfigError(
        at('web-admin-ip'),
        'web-admin-ip',
        `${address} is not a loopback address and cert/pkey are not set: the web admin's login would cross the network in clear text (set cert and pkey for HTTPS, or bind it to 127.0.0.1)`,
      ),
    );
    return undefined;
  }
  const token = readToken(s, at, errors, true);
  if (token === undefined && userDb === undefined) {
    warnings.push(located(at('web-admin'), 'web-admin: no admin-token and no SQLite userdb with admin users (turnadmin -A): no one can log in'));
  }
  return { address, port: s.number('web-admin-port', DEFAULT_PORT), https, token };
}
