/**
 * What the engine is given that comes from the options: its configuration, the credential
 * source and the peer policy. Built once at start and again on every reload.
 */
import { Credentials, StaticUsers, lookupOf, type CredentialSource, type KeyLookup, type UserKeyStore } from './auth/credentials.js';
import { RestSecrets, type SecretSource } from './auth/rest-api.js';
import type { RemoteUserDb } from './auth/remote-userdb.js';
import type { UserDb } from './auth/userdb.js';
import type { ServerOptions } from './config/server-options.js';
import { PeerPolicy } from './policy/peer-policy.js';
import type { ServicePorts } from './policy/service-ports.js';
import { CHANNEL_MAX_RFC5766, CHANNEL_MAX_RFC8656 } from './stun/constants.js';
import type { PasswordAlgorithm } from './stun/integrity.js';
import type { AuthMode, EngineConfig } from './turn/engine-context.js';
import type { Logger } from './log/logger-interface.js';

/** Beyond these, a client is not making calls but scanning: 508 (coturn has no cap). */
const MAX_PERMISSIONS_PER_ALLOCATION = 1000;
const MAX_CHANNELS_PER_ALLOCATION = 1000;

export function authModeOf(options: ServerOptions): AuthMode {
  if (options.noAuth) return 'none';
  if (options.stunOnly) return 'stun-only';
  const hasSource = options.users.length > 0 || options.userDb !== undefined || hasRemoteUserDb(options) || options.useAuthSecret;
  return hasSource ? 'long-term' : 'stun-only';
}

export function engineConfigOf(options: ServerOptions): EngineConfig {
  return {
    realm: options.realm,
    authMode: authModeOf(options),
    oauthServerName: options.oauth ? options.serverName : undefined,
    software: options.softwareAttribute ? options.software : undefined,
    fingerprint: options.fingerprint,
    defaultAddressFamily: options.defaultAddressFamily,
    stunBackwardCompatibility: options.stunBackwardCompatibility,
    logBinding: options.logBinding,
    secureStun: options.secureStun,
    mobility: options.mobility,
    noStun: options.noStun,
    udpRelay: !options.noUdpRelay,
    tcpRelay: !options.noTcpRelay,
    defaultLifetimeSeconds: Math.min(600, options.maxAllocateLifetime),
    maxLifetimeSeconds: options.maxAllocateLifetime,
    permissionLifetimeSeconds: options.permissionLifetime,
    channelLifetimeSeconds: options.channelLifetime,
    maxChannelNumber: options.strictChannelNumbers ? CHANNEL_MAX_RFC8656 : CHANNEL_MAX_RFC5766,
    userQuota: options.userQuota,
    totalQuota: options.totalQuota,
    maxBps: options.maxBps,
    bpsCapacity: options.bpsCapacity,
    restApiSeparator: options.restApiSeparator,
    maxPermissionsPerAllocation: MAX_PERMISSIONS_PER_ALLOCATION,
    maxChannelsPerAllocation: MAX_CHANNELS_PER_ALLOCATION,
    alternateServers: options.redirect.alternateServers,
    tlsAlternateServers: options.redirect.tlsAlternateServers,
  };
}

/** Static users, the user database (opened by the caller, kept across reloads) and REST secrets, as one source. */
export function credentialsOf(options: ServerOptions, userDb: UserDb | undefined, logger: Logger): Credentials {
  const stores: [StaticUsers, ...UserKeyStore[]] = [new StaticUsers(options.users, options.realm)];
  if (userDb) stores.push(userDb);
  let rest: RestSecrets | undefined;
  if (options.useAuthSecret) {
    const secrets: SecretSource = {
      // The configured secrets first: during a rotation both old and new are tried.
      secretsFor: (realm) => [...options.staticAuthSecrets, ...(userDb?.secretsFor(realm) ?? [])],
    };
    rest = new RestSecrets(secrets, options.restApiSeparator);
    if (options.staticAuthSecrets.length === 0 && !userDb && !hasRemoteUserDb(options)) {
      logger.warn('use-auth-secret without static-auth-secret or userdb: no REST API credential can succeed');
    }
  }
  return new Credentials(stores, rest);
}

/** `redis-userdb`, `psql-userdb` or `mysql-userdb`: a user database on another server. */
export function hasRemoteUserDb(options: ServerOptions): boolean {
  return options.redisUserDb !== undefined || options.psqlUserDb !== undefined || options.mysqlUserDb !== undefined;
}

/**
 * With `redis-userdb`, `psql-userdb` or `mysql-userdb`, whose lookups are asynchronous: static users (and their
 * secrets) first, then the database's keys and secrets for the realm, in coturn's layout.
 */
export function credentialsWithRemote(options: ServerOptions, remote: RemoteUserDb, logger: Logger): CredentialSource {
  const local = credentialsOf(options, undefined, logger);
  const rest = options.useAuthSecret ? new RestSecrets({ secretsFor: () => [] }, options.restApiSeparator) : undefined;
  return {
    async keysFor(username: string, realm: string, nowMs: number, algorithm: PasswordAlgorithm): Promise<KeyLookup> {
      if (rest?.isRestUsername(username)) {
        const fromDb = await remote.secretsFor(realm);
        const secrets: SecretSource = { secretsFor: () => [...options.staticAuthSecrets, ...fromDb] };
        return new RestSecrets(secrets, options.restApiSeparator).keysFor(username, realm, nowMs, algorithm);
      }
      const found = local.keysFor(username, realm, nowMs, algorithm);
      if (found.valid || found.md5Only) return found;
      const keys = await remote.keysOf(username, realm);
      return keys ? lookupOf(keys, algorithm) : found;
    },
    usernameForHash: (userhash, realm) => local.usernameForHash(userhash, realm),
    resolvesEveryUserHash: false,
    // Redis may hold a user's MD5 key only.
    everyUserHasSha256Key: false,
  };
}

/** The server's own addresses (listening, relay) and the ports it serves on, fixed at start. */
export interface OwnEndpoints {
  readonly listeningIps: readonly string[];
  readonly relayIps: readonly string[];
  readonly servicePorts: ServicePorts;
}

/**
 * The peer rules in one line, as a reload puts them in force: logged by the thread that
 * reloads, once for the server (relay workers would each say it, late).
 */
export function describePeerRules(options: ServerOptions): string {
  return new PeerPolicy({ allowLoopbackPeers: options.allowLoopbackPeers, allowed: options.allowedPeerIps, denied: options.deniedPeerIps }).describe();
}

/** The peer rules, built at start and on every reload. */
export function peerPolicyOf(options: ServerOptions, own: OwnEndpoints): PeerPolicy {
  return new PeerPolicy({
    allowLoopbackPeers: options.allowLoopbackPeers,
    allowed: options.allowedPeerIps,
    denied: options.deniedPeerIps,
    ownAddresses: [
      ...own.listeningIps, ...own.relayIps, ...options.auxServers.map((a) => a.address), ...options.externalIps.values(), ...options.externalIps.keys(),
    ].filter((a) => a !== ''),
    relayPorts: { min: options.minPort, max: options.maxPort },
    servicePorts: own.servicePorts,
  });
}
