/**
 * The composition root: options in, a running server out. Everything is wired here and
 * nowhere else; `createTurnServer` is also the library API.
 */
import { Credentials, StaticUsers, type UserKeyStore } from './auth/credentials.js';
import { RestSecrets, type SecretSource } from './auth/rest-api.js';
import { UserDb, openUserDb } from './auth/userdb.js';
import type { ServerOptions } from './config/server-options.js';
import { startMetrics, type Metrics } from './metrics/index.js';
import { localAddresses } from './net/local-addresses.js';
import { Listeners } from './net/listeners.js';
import { startSelfTest } from './selftest/from-options.js';
import type { SelfTestPage } from './selftest/self-test-page.js';
import { TcpRelays } from './net/tcp-relays.js';
import { UdpRelays } from './net/udp-relays.js';
import { PeerPolicy } from './policy/peer-policy.js';
import { CHANNEL_MAX_RFC5766, CHANNEL_MAX_RFC8656 } from './stun/constants.js';
import type { TransportAddress } from './stun/ip.js';
import type { AuthMode, EngineConfig } from './turn/engine-context.js';
import { TurnEngine } from './turn/engine.js';
import { silentLogger, type Logger } from './turn/logger.js';
import { NonceIssuer } from './turn/nonce.js';
import { ReplyBudget } from './turn/reply-budget.js';

export interface TurnServer {
  readonly engine: TurnEngine;
  /** Where clients can reach the server over UDP (ports resolved when 0 was asked). */
  readonly udpAddresses: readonly TransportAddress[];
  /** Where clients can reach the server over TCP and TLS. */
  readonly streamAddresses: readonly TransportAddress[];
  readonly listeners: Listeners;
  /** The self-test page, when `self-test-page` is on. */
  readonly selfTest: SelfTestPage | undefined;
  /** Reads the TLS certificate again (SIGUSR2, SIGHUP); false when it was refused. */
  reloadCertificates(): boolean;
  readonly authMode: AuthMode;
  /** The Prometheus registry and endpoint, with `prometheus`. */
  readonly metrics: Metrics | undefined;
  close(): Promise<void>;
}

/** Beyond these, a client is not making calls but scanning: 508 (coturn has no cap). */
const MAX_PERMISSIONS_PER_ALLOCATION = 1000;
const MAX_CHANNELS_PER_ALLOCATION = 1000;
/**
 * Room for peer datagrams while the event loop is busy (TLS crypto, a burst of requests):
 * Linux's default (~208 KiB) overflows under load; the kernel caps it at net.core.rmem_max.
 */
const RELAY_RECEIVE_BUFFER = 1024 * 1024;

export function authModeOf(options: ServerOptions): AuthMode {
  if (options.noAuth) return 'none';
  if (options.stunOnly) return 'stun-only';
  const hasSource = options.users.length > 0 || options.userDb !== undefined || options.useAuthSecret;
  return hasSource ? 'long-term' : 'stun-only';
}

export function engineConfigOf(options: ServerOptions): EngineConfig {
  return {
    realm: options.realm,
    authMode: authModeOf(options),
    software: options.softwareAttribute ? options.software : undefined,
    fingerprint: options.fingerprint,
    secureStun: options.secureStun,
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
  };
}

/** Static users, the user database and REST secrets, as one source; and what to close. */
function credentialsOf(options: ServerOptions, logger: Logger): { credentials: Credentials; userDb: UserDb | undefined } {
  const userDb = options.userDb !== undefined ? new UserDb(openUserDb(options.userDb), (m) => logger.warn(m)) : undefined;
  const stores: UserKeyStore[] = [new StaticUsers(options.users, options.realm)];
  if (userDb) stores.push(userDb);
  let rest: RestSecrets | undefined;
  if (options.useAuthSecret) {
    const secrets: SecretSource = {
      // The configured secrets first: during a rotation both old and new are tried.
      secretsFor: (realm) => [...options.staticAuthSecrets, ...(userDb?.secretsFor(realm) ?? [])],
    };
    rest = new RestSecrets(secrets, options.restApiSeparator);
    if (options.staticAuthSecrets.length === 0 && !userDb) {
      logger.warn('use-auth-secret without static-auth-secret or userdb: no REST API credential can succeed');
    }
  }
  return { credentials: new Credentials(stores, rest), userDb };
}

export async function createTurnServer(options: ServerOptions, logger: Logger = silentLogger): Promise<TurnServer> {
  const listeningIps = options.listeningIps.length > 0 ? [...options.listeningIps] : localAddresses();
  const relayIps = options.relayIps.length > 0 ? [...options.relayIps] : listeningIps;
  const config = engineConfigOf(options);
  const relays = new UdpRelays(
    { relayIps, minPort: options.minPort, maxPort: options.maxPort, externalIps: options.externalIps, receiveBufferSize: RELAY_RECEIVE_BUFFER },
    logger,
  );
  const tcpRelays = new TcpRelays(relayIps, options.minPort, options.maxPort, options.externalIps, logger);
  const peerPolicy = new PeerPolicy({
    allowLoopbackPeers: options.allowLoopbackPeers,
    allowed: options.allowedPeerIps,
    denied: options.deniedPeerIps,
    ownAddresses: [...listeningIps, ...relayIps, ...options.externalIps.values(), ...options.externalIps.keys()].filter((a) => a !== ''),
    relayPorts: { min: options.minPort, max: options.maxPort },
  });
  const { credentials, userDb } = credentialsOf(options, logger);
  const engine = new TurnEngine(config, {
    credentials,
    relays,
    tcpRelays,
    peerPolicy,
    nonces: new NonceIssuer(options.staleNonce),
    replyBudget: new ReplyBudget(),
    realmOptions: userDb ? (realm) => userDb.realmOptions(realm) : undefined,
    onAllocationEnded: (allocation) => metrics?.allocationEnded(allocation),
    logger,
    clock: Date.now,
  });

  let listeners: Listeners | undefined;
  let metrics: Metrics | undefined;
  let selfTest: SelfTestPage | undefined;
  const started = async (): Promise<Listeners> => {
    metrics = options.metrics && (await startMetrics({ engine, portUsage: () => relays.portUsage() }, options.metrics, logger));
    listeners = await Listeners.start(options, listeningIps, engine, logger);
    selfTest = options.selfTest && (await startSelfTest(options, options.selfTest, listeners, userDb, logger));
    return listeners;
  };
  let running: Listeners;
  try {
    running = await started();
  } catch (error) {
    await selfTest?.close();
    await listeners?.close();
    await metrics?.close();
    relays.close();
    userDb?.close();
    throw error;
  }
  const ticker = setInterval(() => engine.tick(), 1000);
  ticker.unref();

  const relayWhere = options.relayIps.length > 0 ? relayIps.join(', ') : 'the address each client reached';
  logger.info(`relaying from ${relayWhere}, ports ${options.minPort}-${options.maxPort}`);
  logger.info(peerPolicy.describe());
  if (config.authMode === 'stun-only') {
    logger.warn(
      options.stunOnly
        ? 'stun-only: TURN requests are refused'
        : 'TURN is off: no credentials are configured, so only STUN Binding is served. ' +
            'To enable TURN add a user (`user=NAME:PASSWORD` in turnserver.conf, or `--user NAME:PASSWORD`) ' +
            'with `lt-cred-mech`, or run an open relay with `--no-auth`.',
    );
  } else if (config.authMode === 'none') {
    logger.warn('no-auth: anyone can allocate relays on this server');
  }

  let closed: Promise<void> | undefined;
  return {
    engine,
    udpAddresses: running.udpAddresses,
    streamAddresses: running.streamAddresses,
    listeners: running,
    selfTest,
    reloadCertificates: () => running.reloadCertificates(),
    authMode: config.authMode,
    metrics,
    close: () =>
      (closed ??= (async () => {
        clearInterval(ticker);
        engine.close();
        relays.close();
        tcpRelays.close();
        await selfTest?.close();
        await running.close();
        await metrics?.close();
        userDb?.close();
      })()),
  };
}

