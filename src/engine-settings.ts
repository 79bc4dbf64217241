/**
 * What the engine is given that comes from the options: its configuration, the credential
 * source and the peer policy. Built once at start and again on every reload.
 */
import { Credentials, StaticUsers, type CredentialSource, type KeyLookup, type UserKeyStore } from './auth/credentials.js';
import type { RedisUserDb } from './auth/redis-userdb.js';
import { RestSecrets, type SecretSource } from './auth/rest-api.js';
import type { UserDb } from './auth/userdb.js';
import type { ServerOptions } from './config/server-options.js';
import { PeerPolicy } from './policy/peer-policy.js';
import type { ServicePorts } from './policy/service-ports.js';
import { CHANNEL_MAX_RFC5766, CHANNEL_MAX_RFC8656 } from './stun/constants.js';
import type { AuthMode, EngineConfig } from './turn/engine-context.js';
import type { Logger } from './log/logger-interface.js';

/** Beyond these, a client is not making calls but scanning: 508 (coturn has no cap). */
const MAX_PERMISSIONS_PER_ALLOCATION = 1000;
const MAX_CHANNELS_PER_ALLOCATION = 1000;

export function authModeOf(options: ServerOptions): AuthMode {
  if (options.noAuth) return 'none';
  if (options.stunOnly) return 'stun-only';
  const hasSource = options.users.length > 0 || options.userDb !== undefined || options.redisUserDb !== undefined || options.useAuthSecret;
  return hasSource ? 'long-term' : 'stun-only';
}

export function engineConfigOf(options: ServerOptions): EngineConfig {
  return {
    realm: options.realm,
    authMode: authModeOf(options),
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
  const stores: UserKeyStore[] = [new StaticUsers(options.users, options.realm)];
  if (userDb) stores.push(userDb);
  let rest: RestSecrets | undefined;
  if (options.useAuthSecret) {
    const secrets: SecretSource = {
      // The configured secrets first: during a rotation both old and new are tried.
      secretsFor: (realm) => [...options.staticAuthSecrets, ...(userDb?.secretsFor(realm) ?? [])],
    };
    rest = new RestSecrets(secrets, options.restApiSeparator);
    if (options.staticAuthSecrets.length === 0 && !userDb && !options.redisUserDb) {
      logger.warn('use-auth-secret without static-auth-secret or userdb: no REST API credential can succeed');
    }
  }
  return new Credentials(stores, rest);
}

/**
 * With `redis-userdb`, whose lookups are asynchronous: static users (and their secrets) first,
 * then Redis, coturn's keys and secrets for the realm.
 */
export function credentialsWithRedis(options: ServerOptions, redis: RedisUserDb, logger: Logger): CredentialSource {
  const local = credentialsOf(options, undefined, logger);
  const rest = options.useAuthSecret ? new RestSecrets({ secretsFor: () => [] }, options.restApiSeparator) : undefined;
  return {
    async keysFor(username: string, realm: string, nowMs: number): Promise<KeyLookup> {
      if (rest?.isRestUsername(username)) {
        const fromRedis = await redis.secretsFor(realm);
        const secrets: SecretSource = { secretsFor: () => [...options.staticAuthSecrets, ...fromRedis] };
        return new RestSecrets(secrets, options.restApiSeparator).keysFor(username, realm, nowMs);
      }
      const found = local.keysFor(username, realm, nowMs);
      if (found.valid) return found;
      const key = await redis.keyFor(username, realm);
      return key ? { keys: [key], valid: true } : found;
    },
  };
}

/** The server's own addresses (listening, relay) and the ports it serves on, fixed at start. */
export interface OwnEndpoints {
  readonly listeningIps: readonly string[];
  readonly relayIps: readonly string[];
  readonly servicePorts: ServicePorts;
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
