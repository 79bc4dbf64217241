/**
 * Options that name other endpoints by IP and port: `alternate-server`, `tls-alternate-server`
 * (with `drain-timeout`: where and when new allocations go elsewhere) and `aux-server`.
 */
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
  return ipEndpoints(s, name, DEFAULT_PORT[name], errors, 'ALTERNATE-SERVER carries an address, not a name');
}

/** `aux-server`: endpoints to listen on, so an IP and a port each. */
export function auxServers(s: Settings, errors: ConfigError[]): TransportAddress[] {
  return ipEndpoints(s, 'aux-server', undefined, errors, 'a listening endpoint is an address and a port');
}

/** Every value of `name` as IP:port; `defaultPort` undefined: the port is required. */
function ipEndpoints(s: Settings, name: string, defaultPort: number | undefined, errors: ConfigError[], why: string): TransportAddress[] {
  const list: TransportAddress[] = [];
  for (const { value, origin } of s.all(name)) {
    const { host, port = defaultPort } = value as Address;
    const family = net.isIP(host);
    if (family === 0 || port === undefined) {
      const wrong = family === 0 ? `"${host}" is not an IP address` : `"${host}" has no port`;
      errors.push(new ConfigError(origin, name, `${wrong} (${why})`));
      continue;
    }
    list.push({ family: family === 6 ? 6 : 4, address: canonicalIp(host), port });
  }
  return list;
}
