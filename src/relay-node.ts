/**
 * One relay node: a TurnEngine with its listeners, relay sockets and user database. The
 * server with relay-threads=1 is one node on the main thread (server.ts); with N threads
 * each worker runs one (workers/relay-worker.ts). What only the whole server has (metrics,
 * the self-test page) is started around it by server.ts.
 */
import { randomBytes } from 'node:crypto';
import type { LastKnownAnswers } from './auth/last-known.js';
import { mysqlUserDb } from './auth/mysql-userdb.js';
import { pgUserDb } from './auth/pg-userdb.js';
import { RedisUserDb } from './auth/redis-userdb.js';
import { RedisStatsDb } from './stats/redis-statsdb.js';
import type { RemoteUserDb } from './auth/remote-userdb.js';
import { UserDb, openUserDb } from './auth/userdb.js';
import type { ServerOptions } from './config/server-options.js';
import { credentialsOf, credentialsWithRemote, engineConfigOf, peerPolicyOf } from './engine-settings.js';
import type { Logger } from './log/logger-interface.js';
import { AlternateEndpoints, logRfc5780, rfc5780Wanted } from './net/alternate-endpoints.js';
import { Listeners, type ListenerGroup } from './net/listeners.js';
import { localAddresses } from './net/local-addresses.js';
import type { PortSlice } from './net/port-pool.js';
import { TcpRelays } from './net/tcp-relays.js';
import { UdpRelays, type ForeignReservations } from './net/udp-relays.js';
import { ServicePorts, configuredServicePorts } from './policy/service-ports.js';
import type { PeerPolicy } from './policy/peer-policy.js';
import type { Allocation } from './turn/allocation.js';
import { TurnEngine } from './turn/engine.js';
import type { OtherWorkers } from './turn/engine-context.js';
import type { AllocationLedger } from './turn/ledger.js';
import { randomHashSeed } from './turn/hashed-buckets.js';
import { NonceIssuer } from './turn/nonce.js';
import { MobilityTickets } from './turn/mobility-ticket.js';
import { ReplyBudget } from './turn/reply-budget.js';
import { nativeUdp } from './net/native-udp/addon.js';
import { describeTcpAccept } from './net/native-tcp-accept.js';
import { logDtlsRecordCrypto } from './net/dtls/from-options.js';

/**
 * Room for peer datagrams while the event loop is busy (TLS crypto, a burst of requests):
 * Linux's default (~208 KiB) overflows under load; the kernel caps it at net.core.rmem_max.
 */
const RELAY_RECEIVE_BUFFER = 1024 * 1024;

/** Random secrets every relay worker must share, so what one issues another accepts. */
export interface RelaySecrets {
  readonly nonce: Buffer;
  readonly dtlsCookie: Buffer;
  readonly replyBudgetSeed: number;
  /** Signs RFC 8016 MOBILITY-TICKETs: a client may move onto any worker's listener. */
  readonly mobility: Buffer;
}

export function newRelaySecrets(): RelaySecrets {
  return { nonce: randomBytes(32), dtlsCookie: randomBytes(32), replyBudgetSeed: randomHashSeed(), mobility: randomBytes(32) };
}

/** How a node differs when it is one of several relay workers; absent: the only node. */
export interface WorkerPlace {
  readonly slice: PortSlice;
  readonly group: ListenerGroup;
  /** Reserved ports other workers hold, claimed for this worker's TCP, TLS and DTLS clients. */
  readonly foreignReservations: ForeignReservations;
}

export interface RelayNodeParts {
  readonly options: ServerOptions;
  readonly secrets: RelaySecrets;
  readonly logger: Logger;
  /** Decides quotas and bps-capacity: in this thread, or the main thread's for a worker. */
  readonly ledger: AllocationLedger;
  readonly place?: WorkerPlace;
  /** The reply budget's ledger of advances, shared by every relay worker; absent: the node's own. */
  readonly advanceMemory?: SharedArrayBuffer;
  /** The alternate-server list's turn, shared by every relay worker; absent: the node's own. */
  readonly alternateTurns?: SharedArrayBuffer;
  readonly onAllocationEnded?: (allocation: Allocation) => void;
  /** A relay worker's: what it hands to the other workers (RESERVATION-TOKENs, RFC 6062 binds). */
  readonly otherWorkers?: OtherWorkers;
  /** A relay worker's: the user database's last known answers, shared with the other workers; absent: the node's own. */
  readonly lastKnown?: LastKnownAnswers;
}

interface OwnAddresses {
  readonly listeningIps: readonly string[];
  readonly relayIps: readonly string[];
  readonly servicePorts: ServicePorts;
}

/** The SQLite user database of `userdb`, opened by each thread that reads it; undefined without one. */
export function openUserDbOf(options: ServerOptions, logger: Logger, lastKnown?: LastKnownAnswers): UserDb | undefined {
  return options.userDb !== undefined ? new UserDb(openUserDb(options.userDb), (m) => logger.warn(m), lastKnown) : undefined;
}

/** `redis-userdb`, `psql-userdb` or `mysql-userdb`, not yet connected; undefined without one. */
function remoteUserDbOf(options: ServerOptions, logger: Logger, lastKnown: LastKnownAnswers | undefined): RemoteUserDb | undefined {
  if (options.redisUserDb) return new RedisUserDb(options.redisUserDb, logger, undefined, lastKnown);
  if (options.psqlUserDb) return pgUserDb(options.psqlUserDb, logger, undefined, lastKnown);
  if (options.mysqlUserDb) return mysqlUserDb(options.mysqlUserDb, logger, undefined, lastKnown);
  return undefined;
}

function credentialsFrom(options: ServerOptions, userDb: UserDb | undefined, remoteUserDb: RemoteUserDb | undefined, logger: Logger) {
  return remoteUserDb ? credentialsWithRemote(options, remoteUserDb, logger) : credentialsOf(options, userDb, logger);
}

/** Which UDP I/O the relay uses (native-udp/addon.ts), said once at start. */
function logUdpIo(logger: Logger): void {
  const udp = nativeUdp();
  if ('io' in udp) logger.info('UDP relay I/O: native (recvmmsg/sendmmsg)');
  else logger.warn(`native UDP I/O unavailable: ${udp.unavailable}; using dgram`);
}

/** A native handler that threw is a bug: logged, never thrown into the event loop. */
function reportNativeUdpErrors(logger: Logger): void {
  const udp = nativeUdp();
  if ('io' in udp) udp.io.onHandlerError = (error) => logger.error(`native UDP: datagram dropped: ${error instanceof Error ? error.stack : String(error)}`);
}

export class RelayNode {
  private constructor(
    readonly engine: TurnEngine,
    readonly relays: UdpRelays,
    readonly tcpRelays: TcpRelays,
    readonly userDb: UserDb | undefined,
    private readonly parts: RelayNodeParts,
    private readonly remoteUserDb: RemoteUserDb | undefined,
    private readonly own: OwnAddresses,
    private nonces: NonceIssuer,
    private peerPolicy: PeerPolicy,
    /** RFC 5780's listening ports, filled in as the listeners bind; undefined when it is off. */
    private readonly alternates: AlternateEndpoints | undefined,
    private readonly statsDb: RedisStatsDb | undefined,
  ) {}

  private running: Listeners | undefined;
  private ticker: NodeJS.Timeout | undefined;

  /** The engine and its relays, not yet listening (so that metrics can start first, as they always did). */
  static async create(parts: RelayNodeParts): Promise<RelayNode> {
    const { options, logger, place } = parts;
    const listeningIps = options.listeningIps.length > 0 ? [...options.listeningIps] : localAddresses();
    const relayIps = options.relayIps.length > 0 ? [...options.relayIps] : listeningIps;
    const relays = new UdpRelays(
      { relayIps, minPort: options.minPort, maxPort: options.maxPort, externalIps: options.externalIps, receiveBufferSize: RELAY_RECEIVE_BUFFER, slice: place?.slice, foreignReservations: place?.foreignReservations },
      logger,
    );
    reportNativeUdpErrors(logger);
    const tcpRelays = new TcpRelays({ relayIps, minPort: options.minPort, maxPort: options.maxPort, externalIps: options.externalIps, slice: place?.slice }, logger);
    const own = { listeningIps, relayIps, servicePorts: new ServicePorts(configuredServicePorts(options)) };
    const userDb = openUserDbOf(options, logger, parts.lastKnown);
    // redis-userdb, psql-userdb, mysql-userdb: connected (or found unreachable) before the first request; reconnects by itself.
    const remoteUserDb = remoteUserDbOf(options, logger, parts.lastKnown);
    await remoteUserDb?.start(options.realm);
    // redis-statsdb: each node (each relay worker) publishes its own allocations, never waiting for Redis.
    const statsDb = options.redisStatsDb ? new RedisStatsDb(options.redisStatsDb, logger) : undefined;
    statsDb?.start();
    const nonces = new NonceIssuer(options.staleNonce, parts.secrets.nonce);
    const peerPolicy = peerPolicyOf(options, own);
    const alternates = rfc5780Wanted(options, listeningIps) ? new AlternateEndpoints(listeningIps) : undefined;
    const engine = new TurnEngine(engineConfigOf(options), {
      credentials: credentialsFrom(options, userDb, remoteUserDb, logger),
      oauthKeys: options.oauth ? (remoteUserDb ?? userDb) : undefined,
      relays,
      tcpRelays,
      peerPolicy,
      nonces,
      ledger: parts.ledger,
      replyBudget: options.noReplyBudget ? undefined : new ReplyBudget({ hashSeed: parts.secrets.replyBudgetSeed, advanceMemory: parts.advanceMemory }),
      alternateAddresses: alternates,
      alternateTurns: parts.alternateTurns && new Uint32Array(parts.alternateTurns),
      realmOptions: userDb ? (realm) => userDb.realmOptions(realm) : remoteUserDb ? (realm) => remoteUserDb.realmOptions(realm) : undefined,
      onAllocationEnded: (allocation) => parts.onAllocationEnded?.(allocation),
      allocationReports: statsDb,
      otherWorkers: parts.otherWorkers,
      mobilityTickets: new MobilityTickets(parts.secrets.mobility),
      logger,
      clock: Date.now,
    });
    return new RelayNode(engine, relays, tcpRelays, userDb, parts, remoteUserDb, own, nonces, peerPolicy, alternates, statsDb);
  }

  get listeners(): Listeners {
    if (!this.running) throw new Error('the relay node is not listening yet');
    return this.running;
  }

  get servicePorts(): ServicePorts {
    return this.own.servicePorts;
  }

  /** Binds the listeners and starts the engine's clock; on failure the node is closed. */
  async listen(): Promise<Listeners> {
    const { options, logger, place, secrets } = this.parts;
    this.running = await Listeners.start(options, this.own.listeningIps, this.engine, logger, place?.group, secrets.dtlsCookie, this.alternates);
    // Ports asked as 0 are known now.
    this.own.servicePorts.add(this.running.boundPorts);
    this.ticker = setInterval(() => this.engine.tick(), 1000);
    this.ticker.unref();
    return this.running;
  }

  /** Puts reloaded options in force, with no allocation dropped (see config/option-changes.ts). */
  reconfigure(next: ServerOptions): void {
    this.peerPolicy = peerPolicyOf(next, this.own);
    // The same secret: nonces already handed out stay valid.
    this.nonces = this.nonces.withLifetime(next.staleNonce);
    const credentials = credentialsFrom(next, this.userDb, this.remoteUserDb, this.parts.logger);
    this.engine.reconfigure({ config: engineConfigOf(next), credentials, peerPolicy: this.peerPolicy, nonces: this.nonces });
    this.running?.reloadCertificates(next.tls);
  }

  /** What the server relays, and what it refuses, said once at start. */
  logStartup(): void {
    const { options, logger } = this.parts;
    const relayWhere = options.relayIps.length > 0 ? this.own.relayIps.join(', ') : 'the address each client reached';
    logger.info(`relaying from ${relayWhere}, ports ${options.minPort}-${options.maxPort}`);
    logger.info(this.peerPolicy.describe());
    logRfc5780(options, this.own.listeningIps, logger);
    logUdpIo(logger);
    if (!options.noTcp) {
      const tcp = describeTcpAccept();
      logger[tcp.level](tcp.text);
    }
    const tls = this.running?.describeTls();
    if (tls) logger.info(tls);
    logDtlsRecordCrypto(options, logger);
    if (this.engine.config.authMode === 'stun-only') {
      logger.warn(
        options.stunOnly
          ? 'stun-only: TURN requests are refused'
          : 'TURN is off: no credentials are configured, so only STUN Binding is served. ' +
              'To enable TURN add a user (`user=NAME:PASSWORD` in turnserver.conf, or `--user NAME:PASSWORD`) ' +
              'with `lt-cred-mech`, or run an open relay with `--no-auth`.',
      );
    } else if (this.engine.config.authMode === 'none') {
      logger.warn('no-auth: anyone can allocate relays on this server');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.ticker);
    this.engine.close();
    this.relays.close();
    this.tcpRelays.close();
    await this.running?.close();
    this.userDb?.close();
    await this.remoteUserDb?.close();
    await this.statsDb?.close();
  }
}
