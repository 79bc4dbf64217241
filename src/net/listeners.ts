/**
 * Every client-facing socket of the server: UDP, and TCP/TLS streams, on each listening
 * address; and the TLS certificate they share, which can be reloaded while they run.
 */
import type { ServerOptions, TlsOptions } from '../config/server-options.js';
import { formatTransportAddress, type TransportAddress } from '../stun/ip.js';
import type { TurnEngine } from '../turn/engine.js';
import type { Logger } from '../log/logger-interface.js';
import { AlternateEndpoints, portPairs } from './alternate-endpoints.js';
import { startDtls } from './dtls/from-options.js';
import type { DtlsService } from './dtls/service.js';
import { StreamListener, tlsSessionFactory } from './stream-listener.js';
import { TlsTerminator } from './tls-terminator.js';
import { hasCertificate, secureOptions } from './tls-context.js';
import type { GroupRole } from './reuse-port.js';
import { UdpListener } from './udp-listener.js';

/**
 * Relay workers: every listener joins a SO_REUSEPORT group. `ports`, once the first worker
 * bound, are the ports it got, in binding order, so ports asked as 0 are the same for all.
 */
export interface ListenerGroup {
  readonly ports?: readonly number[];
}

export class Listeners {
  private constructor(
    readonly udp: readonly UdpListener[],
    readonly streams: readonly StreamListener[],
    private readonly tls: TlsTerminator | undefined,
    /** DTLS, on each UDP socket of both ports; undefined with no-dtls or no certificate. */
    readonly dtls: DtlsService | undefined,
    /** The UDP sockets on tls-listening-port (plain STUN/TURN is served there too, as coturn does). */
    readonly dtlsUdp: readonly UdpListener[],
    /** Where the certificate is read from; a reload may point elsewhere. */
    private tlsOptions: TlsOptions,
    private readonly logger: Logger,
  ) {}

  /** Which stream listeners are on tls-listening-port. */
  private readonly tlsPortStreams = new Set<StreamListener>();
  /** `tcp-proxy-port`: TCP from a load balancer, each connection opened by a PROXY header. */
  private readonly proxied: StreamListener[] = [];
  /** The port each socket got, in the order they were bound: what other relay workers bind. */
  readonly boundPorts: number[] = [];

  static async start(
    options: ServerOptions,
    ips: readonly string[],
    engine: TurnEngine,
    logger: Logger,
    group?: ListenerGroup,
    dtlsCookieSecret?: Buffer,
    /** RFC 5780: the alternative ports are bound too, and every listening port is told to it. */
    alternates?: AlternateEndpoints,
  ): Promise<Listeners> {
    const streamOptions = { maxAllocateTimeoutSeconds: options.maxAllocateTimeout };
    let tls: TlsTerminator | undefined;
    if (!options.noTls && hasCertificate(options.tls)) {
      tls = new TlsTerminator(secureOptions(options.tls), tlsSessionFactory(engine, streamOptions, logger), logger);
    } else if (!options.noTls) {
      logger.warn('TLS is not served: set cert and pkey (or no-tls to silence this)');
    }
    const dtls = startDtls(options, engine, logger, dtlsCookieSecret);
    const udp: UdpListener[] = [];
    const dtlsUdp: UdpListener[] = [];
    const streams: StreamListener[] = [];
    const listeners = new Listeners(udp, streams, tls, dtls, dtlsUdp, options.tls, logger);
    const role: GroupRole = group === undefined ? 'alone' : group.ports === undefined ? 'first' : 'member';
    // Every bind goes through these two, in one fixed order, so boundPorts lines up with group.ports.
    const bindUdp = async (ip: string, port: number): Promise<UdpListener> => {
      const listener = await UdpListener.listen(ip, group?.ports?.[listeners.boundPorts.length] ?? port, engine, logger, role);
      listeners.boundPorts.push(listener.local.port);
      return listener;
    };
    const bindStream = async (ip: string, port: number, terminator: TlsTerminator | undefined, proxyProtocol = false): Promise<StreamListener> => {
      const chosen = group?.ports?.[listeners.boundPorts.length] ?? port;
      const listener = await StreamListener.listen(ip, chosen, engine, terminator, { ...streamOptions, proxyProtocol }, logger, role);
      listeners.boundPorts.push(listener.local.port);
      return listener;
    };
    try {
      // With RFC 5780 (alternates), each IP listens on the alternative ports too, as coturn does.
      for (const ip of ips) {
        for (const pair of portPairs(options, alternates !== undefined)) {
          const plain = { tls: false, alt: pair.alt };
          const secure = { tls: true, alt: pair.alt };
          if (!options.noUdp) {
            udp.push(await bindUdp(ip, pair.port));
            alternates?.add(ip, udp[udp.length - 1]!.local.port, plain, udp[udp.length - 1]!.socket);
          }
          // As coturn: DTLS on both ports, told from plain STUN/ChannelData by the first byte.
          if (dtls) {
            if (!options.noUdp) udp[udp.length - 1]!.onDtls = dtls.attach(udp[udp.length - 1]!);
            const onTlsPort = await bindUdp(ip, pair.tlsPort);
            onTlsPort.onDtls = dtls.attach(onTlsPort);
            dtlsUdp.push(onTlsPort);
            alternates?.add(ip, onTlsPort.local.port, secure, onTlsPort.socket);
          }
          // Plain and TLS clients are both accepted on either port, told apart by the first byte.
          if (!options.noTcp) {
            streams.push(await bindStream(ip, pair.port, tls));
            alternates?.add(ip, streams[streams.length - 1]!.local.port, plain);
          }
          if (tls) {
            const onTlsPort = await bindStream(ip, pair.tlsPort, tls);
            streams.push(onTlsPort);
            listeners.tlsPortStreams.add(onTlsPort);
            alternates?.add(ip, onTlsPort.local.port, secure);
          }
          if (options.tcpProxyPort !== undefined && !pair.alt) {
            listeners.proxied.push(await bindStream(ip, options.tcpProxyPort, undefined, true));
          }
        }
      }
      // aux-server: more plain endpoints, each an address and a port of its own.
      for (const aux of options.auxServers) {
        if (!options.noUdp) udp.push(await bindUdp(aux.address, aux.port));
        if (!options.noTcp) streams.push(await bindStream(aux.address, aux.port, tls));
      }
    } catch (error) {
      await listeners.close();
      throw error;
    }
    for (const l of udp) logger.info(`listening on UDP${dtls ? '/DTLS' : ''} ${formatTransportAddress(l.local)}`);
    for (const l of dtlsUdp) logger.info(`listening on UDP/DTLS ${formatTransportAddress(l.local)}`);
    for (const l of streams) logger.info(`listening on TCP${tls ? '/TLS' : ''} ${l.describe()}${l.accepting === 'native' ? ', native accept' : ''}`);
    for (const l of listeners.proxied) logger.info(`listening on TCP with PROXY protocol headers (tcp-proxy-port) ${l.describe()}`);
    return listeners;
  }

  get udpAddresses(): TransportAddress[] {
    return this.udp.map((l) => l.local);
  }

  /** The UDP sockets on tls-listening-port (DTLS also reaches the listening-port ones). */
  get dtlsAddresses(): TransportAddress[] {
    return this.dtlsUdp.map((l) => l.local);
  }

  /** The TCP listeners on listening-port (plain TCP, TLS too when it is on). */
  get tcpAddresses(): TransportAddress[] {
    return this.streams.filter((l) => !this.tlsPortStreams.has(l)).map((l) => l.local);
  }

  /** The TCP listeners on tls-listening-port. */
  get tlsAddresses(): TransportAddress[] {
    return this.streams.filter((l) => this.tlsPortStreams.has(l)).map((l) => l.local);
  }

  get streamAddresses(): TransportAddress[] {
    return this.streams.map((l) => l.local);
  }

  /** The `tcp-proxy-port` listeners. */
  get proxyAddresses(): TransportAddress[] {
    return this.proxied.map((l) => l.local);
  }

  /** Who runs TLS connections, said once at start; undefined without TLS. */
  describeTls(): string | undefined {
    return this.tls?.describe();
  }

  get pendingTlsHandshakes(): number {
    return this.tls?.pendingHandshakes ?? 0;
  }

  /** Reads cert and pkey again; a bad new pair is refused and the old one kept. */
  /** Reads the certificate again, from new TLS settings when a reload brings them. */
  reloadCertificates(tls: TlsOptions = this.tlsOptions): boolean {
    if (!this.tls && !this.dtls) return false;
    try {
      const secure = secureOptions(tls);
      // DTLS checks the pair first, so that a refused pair changes neither.
      this.dtls?.setCredentials(secure);
      this.tls?.setSecureContext(secure);
      this.tlsOptions = tls;
      this.logger.info(`TLS certificate reloaded from ${tls.cert}`);
      return true;
    } catch (error) {
      this.logger.error(`TLS certificate not reloaded, the old one stays: ${(error as Error).message}`);
      return false;
    }
  }

  /**
   * Serves an Allocate another relay worker received on `local` (one of the same group's
   * addr:ports); false when this node listens on no such UDP address.
   */
  serveForwardedAllocate(local: TransportAddress, client: TransportAddress, packet: Buffer): boolean {
    const listener = [...this.udp, ...this.dtlsUdp].find((l) => l.local.address === local.address && l.local.port === local.port);
    listener?.serveForwarded(packet, client);
    return listener !== undefined;
  }

  async close(): Promise<void> {
    this.dtls?.close(); // says close_notify while the sockets are still open
    await Promise.all([...this.udp.map((l) => l.close()), ...this.dtlsUdp.map((l) => l.close()), ...this.streams.map((l) => l.close()), ...this.proxied.map((l) => l.close())]);
  }
}
