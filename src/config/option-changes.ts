/**
 * What a reload (SIGHUP) may change in a running server. Credentials, peer rules, quotas,
 * bandwidth, lifetimes, certificates and redirects take effect at once; addresses, ports,
 * the relay range, CA-file and the outputs opened at start keep their old values until a restart.
 */
import type { ServerOptions } from './server-options.js';

type Key = keyof ServerOptions;

const LIVE: ReadonlySet<Key> = new Set<Key>([
  'realm', 'ltCredMech', 'noAuth', 'users', 'useAuthSecret', 'staticAuthSecrets', 'restApiSeparator', 'staleNonce',
  'stunOnly', 'noStun', 'secureStun', 'noUdpRelay', 'noTcpRelay', 'tls',
  'userQuota', 'totalQuota', 'maxBps', 'bpsCapacity',
  'allowedPeerIps', 'deniedPeerIps', 'allowLoopbackPeers', 'noMulticastPeers',
  'maxAllocateLifetime', 'defaultAllocateLifetime', 'permissionLifetime', 'channelLifetime', 'strictChannelNumbers',
  'fingerprint', 'softwareAttribute', 'logLevel', 'redirect', 'defaultAddressFamily', 'stunBackwardCompatibility', 'logBinding', 'mobility',
]);

/** How an option is named in turnserver.conf, where that is not its field name in kebab case. */
const CONF_NAMES: Partial<Record<Key, string>> = {
  users: 'user',
  userDb: 'userdb',
  redisUserDb: 'redis-userdb',
  redisStatsDb: 'redis-statsdb',
  psqlUserDb: 'psql-userdb',
  mysqlUserDb: 'mysql-userdb',
  staticAuthSecrets: 'static-auth-secret',
  allowedPeerIps: 'allowed-peer-ip',
  deniedPeerIps: 'denied-peer-ip',
  listeningIps: 'listening-ip',
  relayIps: 'relay-ip',
  externalIps: 'external-ip',
  tls: 'cert, pkey and TLS settings',
  metrics: 'prometheus settings',
  admin: 'admin settings',
  webAdmin: 'web-admin settings',
  redirect: 'alternate-server, tls-alternate-server, drain-timeout',
  selfTest: 'self-test settings',
  pidFile: 'pidfile',
  logLevel: 'verbose / Verbose',
  defaultAllocateLifetime: 'max-allocate-lifetime',
  defaultAddressFamily: 'allocation-default-address-family',
  stunBackwardCompatibility: 'no-stun-backward-compatibility',
};

export interface OptionChanges {
  /** Changed, and a running server can take the new value. */
  readonly live: readonly string[];
  /** Changed, but the old value stays until a restart. */
  readonly needsRestart: readonly string[];
}

export function optionChanges(before: ServerOptions, after: ServerOptions): OptionChanges {
  const live = new Set<string>();
  const needsRestart = new Set<string>();
  const taken = withStartCaFile(before, after);
  const keys = new Set([...Object.keys(before), ...Object.keys(after)] as Key[]);
  for (const key of keys) {
    if (sameValue(before[key], taken[key])) continue;
    (LIVE.has(key) ? live : needsRestart).add(CONF_NAMES[key] ?? kebab(key));
  }
  if (before.tls.caFile !== after.tls.caFile) needsRestart.add('CA-file');
  return { live: [...live], needsRestart: [...needsRestart] };
}

/** The options a running server is given on reload: the new live values, the old others. */
export function reloadedOptions(before: ServerOptions, after: ServerOptions): ServerOptions {
  const taken = withStartCaFile(before, after);
  const merged: Record<string, unknown> = { ...before };
  for (const key of LIVE) merged[key] = taken[key];
  return merged as unknown as ServerOptions;
}

/**
 * `after` with the CA-file of `before`. CA-file decides at start whether TLS and DTLS ask for
 * client certificates (a listening Node TLS server cannot start or stop asking, and DTLS keeps
 * to TLS's rule so that neither is a way round the other): taken on reload, it would leave DTLS
 * serving clients without the certificate TLS demands, or the reverse. Its file is still read
 * again with the certificate, so a renewed CA at the same path is taken.
 */
function withStartCaFile(before: ServerOptions, after: ServerOptions): ServerOptions {
  return { ...after, tls: { ...after.tls, caFile: before.tls.caFile } };
}

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Structural equality over what options hold: primitives, arrays, Maps, Buffers and records. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !sameValue(v, b.get(k))) return false;
    return true;
  }
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
    return true;
  }
  return false;
}
