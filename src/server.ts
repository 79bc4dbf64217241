/**
 * The composition root: options in, a running server out. Everything is wired here and
 * nowhere else; `createTurnServer` is also the library API.
 */
import { RedisUserDb } from './auth/redis-userdb.js';
import { UserDb, openUserDb } from './auth/userdb.js';
import type { ServerOptions } from './config/server-options.js';
import { startMetrics, type Metrics } from './metrics/index.js';
import { localAddresses } from './net/local-addresses.js';
import { Listeners } from './net/listeners.js';
import { startSelfTest } from './selftest/from-options.js';
import type { SelfTestPage } from './selftest/self-test-page.js';
import { TcpRelays } from './net/tcp-relays.js';
import { ServicePorts, configuredServicePorts } from './policy/service-ports.js';
import { UdpRelays } from './net/udp-relays.js';
import type { TransportAddress } from './stun/ip.js';
import { credentialsOf, credentialsWithRedis, engineConfigOf, peerPolicyOf } from './engine-settings.js';
import type { AuthMode } from './turn/engine-context.js';
import { TurnEngine } from './turn/engine.js';
import { silentLogger, type Logger } from './log/logger-interface.js';
import { NonceIssuer } from './turn/nonce.js';
import { ReplyBudget } from './turn/reply-budget.js';
import { LocalLedger } from './turn/ledger.js';

export { authModeOf, engineConfigOf } from './engine-settings.js';

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
  /**
   * Puts reloaded options in force (see config/option-changes.ts for which): credentials,
   * peer rules, quotas, lifetimes, redirects and certificates, with no allocation dropped.
   */
  reconfigure(options: ServerOptions): void;
  readonly authMode: AuthMode;
  /** The Prometheus registry and endpoint, with `prometheus`. */
  readonly metrics: Metrics | undefined;
  /** Ports the server serves on, never peers; an interface started beside it (admin) adds its own. */
  readonly servicePorts: ServicePorts;
  close(): Promise<void>;
}

/**
 * Room for peer datagrams while the event loop is busy (TLS crypto, a burst of requests):
 * Linux's default (~208 KiB) overflows under load; the kernel caps it at net.core.rmem_max.
 */
const RELAY_RECEIVE_BUFFER = 1024 * 1024;

export async function createTurnServer(options: ServerOptions, logger: Logger = silentLogger): Promise<TurnServer> {
  const listeningIps = options.listeningIps.length > 0 ? [...options.listeningIps] : localAddresses();
  const relayIps = options.relayIps.length > 0 ? [...options.relayIps] : listeningIps;
  const config = engineConfigOf(options);
  const relays = new UdpRelays(
    { relayIps, minPort: options.minPort, maxPort: options.maxPort, externalIps: options.externalIps, receiveBufferSize: RELAY_RECEIVE_BUFFER },
    logger,
  );
  const tcpRelays = new TcpRelays({ relayIps, minPort: options.minPort, maxPort: options.maxPort, externalIps: options.externalIps }, logger);
  const own = { listeningIps, relayIps, servicePorts: new ServicePorts(configuredServicePorts(options)) };
  const peerPolicy = peerPolicyOf(options, own);
  const userDb = options.userDb !== undefined ? new UserDb(openUserDb(options.userDb), (m) => logger.warn(m)) : undefined;
  // redis-userdb: connected (or found unreachable) before the first request; reconnects by itself.
  const redisUserDb = options.redisUserDb ? new RedisUserDb(options.redisUserDb, logger) : undefined;
  await redisUserDb?.start(options.realm);
  const credentialsFor = (o: ServerOptions) => (redisUserDb ? credentialsWithRedis(o, redisUserDb, logger) : credentialsOf(o, userDb, logger));
  let nonces = new NonceIssuer(options.staleNonce);
  const engine = new TurnEngine(config, {
    credentials: credentialsFor(options),
    relays,
    tcpRelays,
    peerPolicy,
    nonces,
    // One thread: quotas and bps-capacity are decided here (relay workers pass a LedgerClient).
    ledger: new LocalLedger(),
    replyBudget: options.noReplyBudget ? undefined : new ReplyBudget(),
    realmOptions: userDb ? (realm) => userDb.realmOptions(realm) : redisUserDb ? (realm) => redisUserDb.realmOptions(realm) : undefined,
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
    // Ports asked as 0 are known now.
    const bound = [...listeners.udpAddresses, ...listeners.dtlsAddresses, ...listeners.streamAddresses, ...listeners.proxyAddresses];
    own.servicePorts.add([...bound.map((a) => a.port), metrics?.endpoint?.port, selfTest?.port]);
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
    await redisUserDb?.close();
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

  const reconfigure = (next: ServerOptions): void => {
    const policy = peerPolicyOf(next, own);
    // The same secret: nonces already handed out stay valid.
    nonces = nonces.withLifetime(next.staleNonce);
    engine.reconfigure({ config: engineConfigOf(next), credentials: credentialsFor(next), peerPolicy: policy, nonces });
    running.reloadCertificates(next.tls);
    logger.info(policy.describe());
  };

  let closed: Promise<void> | undefined;
  return {
    engine,
    udpAddresses: running.udpAddresses,
    streamAddresses: running.streamAddresses,
    listeners: running,
    selfTest,
    reloadCertificates: () => running.reloadCertificates(),
    reconfigure,
    get authMode() {
      return engine.config.authMode;
    },
    metrics,
    servicePorts: own.servicePorts,
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
        await redisUserDb?.close();
      })()),
  };
}

