/** `alternate-server`, `tls-alternate-server` and `drain-timeout`: where and when new allocations go elsewhere. */
import net from 'node:net';
import { canonicalIp } from '../stun/ip.js';
import type { TransportAddress } from '../stun/ip.js';
import { ConfigError } from './errors.js';
import type { RedirectOptions } from './server-options.js';
import type { Settings } from './settings.js';
import type { Address } from './values.js';

/** coturn's defaults: the plain STUN port for alternate-server, the TLS one for tls-alternate-server. */
const DEFAULT_PORT = { 'alternate-server': 3478, 'tls-alternate-server': 5349 } as const;

export function redirectOptions(s: Settings, errors: ConfigError[]): RedirectOptions {
  return {
    alternateServers: alternates(s, 'alternate-server', errors),
    tlsAlternateServers: alternates(s, 'tls-alternate-server', errors),
    drainTimeoutSeconds: s.number('drain-timeout', 3600),
  };
}

/** ALTERNATE-SERVER carries an address, not a name: each entry must be an IP. */
function alternates(s: Settings, name: keyof typeof DEFAULT_PORT, errors: ConfigError[]): TransportAddress[] {
  const list: TransportAddress[] = [];
  for (const { value, origin } of s.all(name)) {
    const { host, port } = value as Address;
    const family = net.isIP(host);
    if (family === 0) {
      errors.push(new ConfigError(origin, name, `"${host}" is not an IP address (ALTERNATE-SERVER carries an address, not a name)`));
      continue;
    }
    list.push({ family: family === 6 ? 6 : 4, address: canonicalIp(host), port: port ?? DEFAULT_PORT[name] });
  }
  return list;
}
