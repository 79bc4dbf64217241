// ServerOptions for in-process servers in tests: loopback, ports from the OS, one user.
import { longTermKey } from '../../src/stun/index.js';
import type { ServerOptions, StaticUser } from '../../src/config/server-options.js';
import { freePortRange } from './ports.js';

export const REALM = 'test.example';
export const ALICE = { username: 'alice', password: 'wonder;land#1' };
/** MD5(alice:test.example:password), the key her requests are signed with. */
export const ALICE_KEY = longTermKey(ALICE.username, REALM, ALICE.password);
/**
 * A user given with a password (`user=bob:…`), so with a SHA-256 key too, for RFC 8489
 * clients; alice, as the options below have her, has an MD5 key only (as `user=alice:0x…`).
 */
export const BOB = { username: 'bob', password: 'sha-256 ok' };
export const BOB_USER: StaticUser = {
  name: BOB.username,
  key: longTermKey(BOB.username, REALM, BOB.password),
  sha256Key: longTermKey(BOB.username, REALM, BOB.password, 'sha256'),
};

export async function testServerOptions(overrides: Partial<ServerOptions> = {}): Promise<ServerOptions> {
  const host = overrides.listeningIps?.[0] ?? '127.0.0.1';
  const first = await freePortRange(host, 40);
  return {
    listeningIps: [host],
    listeningPort: 0,
    tlsListeningPort: 0,
    altListeningPort: 0,
    altTlsListeningPort: 0,
    noRfc5780: false,
    relayIps: [],
    externalIps: new Map(),
    minPort: first,
    maxPort: first + 39,
    realm: REALM,
    serverName: REALM,
    oauth: false,
    ltCredMech: true,
    noAuth: false,
    users: [{ name: ALICE.username, key: ALICE_KEY }],
    userDb: undefined,
    useAuthSecret: false,
    staticAuthSecrets: [],
    restApiSeparator: ':',
    staleNonce: 600,
    stunOnly: false,
    noStun: false,
    secureStun: false,
    mobility: false,
    noUdp: false,
    noTcp: true,
    noTls: true,
    noDtls: true,
    noUdpRelay: false,
    tls: {
      cert: undefined,
      pkey: undefined,
      pkeyPassword: undefined,
      cipherList: undefined,
      caFile: undefined,
      ecCurveName: undefined,
      dhFile: undefined,
      noTlsv1: false,
      noTlsv1_1: false,
      noTlsv1_2: false,
    },
    maxAllocateTimeout: 60,
    noTcpRelay: false,
    userQuota: 0,
    totalQuota: 0,
    maxBps: 0,
    bpsCapacity: 0,
    allowedPeerIps: [],
    deniedPeerIps: [],
    allowLoopbackPeers: true,
    noMulticastPeers: false,
    maxAllocateLifetime: 3600,
    defaultAllocateLifetime: 600,
    permissionLifetime: 300,
    channelLifetime: 600,
    strictChannelNumbers: false,
    fingerprint: false,
    defaultAddressFamily: 'ipv4',
    stunBackwardCompatibility: true,
    logBinding: false,
    softwareAttribute: false,
    noReplyBudget: false,
    software: 'Turnpike test',
    pidFile: undefined,
    daemon: false,
    logFile: undefined,
    noStdoutLog: true,
    simpleLog: true,
    syslog: false,
    syslogFacility: 1,
    auxServers: [],
    logLevel: 'error',
    redirect: { alternateServers: [], tlsAlternateServers: [], drainTimeoutSeconds: 3600 },
    ...overrides,
  };
}
