/**
 * RFC 6062 TCP relays: a listening socket on the relay address for peers that connect in,
 * and outgoing connections to peers that clients Connect to. Node sets SO_REUSEPORT only on
 * listening sockets (reusePort), not on outgoing ones, so outgoing connections leave from the
 * relay IP with a port of the kernel's choosing rather than from the relayed port itself
 * (RFC 6062 §5.2 asks for the latter). A Connect to another relay of this server is joined
 * in-process instead (relay-pair.ts), so that relay does see the relayed address.
 */
import { connect, createServer, type Server } from 'node:net';
import { canonicalIp, formatTransportAddress, ipFamily, type IpFamily, type TransportAddress } from '../stun/ip.js';
import type { Logger } from '../log/logger-interface.js';
import type { PeerConnection, TcpRelayEndpoint, TcpRelayOpenResult, TcpRelayProvider } from '../turn/relay.js';
import { StreamPeerConnection } from './peer-connection.js';
import { PortPool, type RelayRangeOptions } from './port-pool.js';
import { relayPair } from './relay-pair.js';

const LISTEN_ATTEMPTS = 16;

/** An open relay as a Connect from another relay of this server finds it. */
interface OpenRelay {
  readonly advertised: TransportAddress;
  readonly onIncoming: (connection: PeerConnection) => void;
}

const addressKey = (a: TransportAddress): string => `${canonicalIp(a.address)}|${a.port}`;

/** A TCP relay listens on the relay address the client reached, else the first of its family. */
export type TcpRelayOptions = RelayRangeOptions;

export class TcpRelays implements TcpRelayProvider {
  private readonly pools = new Map<string, PortPool>();
  private readonly servers = new Set<Server>();
  /** Open relays by their local and their advertised address. */
  private readonly relays = new Map<string, OpenRelay>();

  private readonly relayIps: readonly string[];
  private readonly externalIps: ReadonlyMap<string, string>;

  constructor(
    options: TcpRelayOptions,
    private readonly logger: Logger,
  ) {
    this.relayIps = options.relayIps;
    this.externalIps = options.externalIps;
    for (const ip of options.relayIps) this.pools.set(ip, new PortPool(options.minPort, options.maxPort, Math.random, options.slice));
  }

  async open(family: IpFamily, preferredAddress: string | undefined, onIncoming: (c: PeerConnection) => void): Promise<TcpRelayOpenResult> {
    const candidates = this.relayIps.filter((ip) => ipFamily(ip) === family);
    const ip = preferredAddress && candidates.includes(preferredAddress) ? preferredAddress : candidates[0];
    if (!ip) return { ok: false, reason: 'no-address' };
    const pool = this.pools.get(ip)!;
    for (let attempt = 0; attempt < LISTEN_ATTEMPTS; attempt++) {
      const port = pool.take();
      if (port === undefined) return { ok: false, reason: 'exhausted' };
      const server = await this.listen(ip, port);
      if (!server) continue; // held by someone else: it stays out of this pool
      server.on('connection', (socket) => onIncoming(StreamPeerConnection.fromSocket(socket)));
      return { ok: true, endpoint: this.endpoint(server, ip, port, onIncoming) };
    }
    return { ok: false, reason: 'exhausted' };
  }

  close(): void {
    for (const server of this.servers) server.close();
    this.servers.clear();
    this.relays.clear();
  }

  /** A Connect from the relay at `from` to another of ours; undefined when the target refuses it. */
  private joinRelays(from: TransportAddress, target: OpenRelay): PeerConnection | undefined {
    const { connecting, accepting } = relayPair(from, target.advertised);
    target.onIncoming(accepting);
    if (accepting.closed) {
      connecting.close();
      return undefined;
    }
    this.logger.verbose(`TCP relay ${formatTransportAddress(from)} joined to TCP relay ${formatTransportAddress(target.advertised)} of this server, in-process`);
    return connecting;
  }

  private listen(ip: string, port: number): Promise<Server | undefined> {
    const server = createServer();
    return new Promise((resolve) => {
      server.once('error', () => resolve(undefined));
      server.listen({ host: ip, port, exclusive: true, ipv6Only: ipFamily(ip) === 6 }, () => {
        server.removeAllListeners('error');
        server.on('error', (error) => this.logger.debug(`TCP relay ${ip}:${port}: ${error.message}`));
        this.servers.add(server);
        resolve(server);
      });
    });
  }

  private endpoint(server: Server, ip: string, port: number, onIncoming: (c: PeerConnection) => void): TcpRelayEndpoint {
    const family = ipFamily(ip)!;
    const local: TransportAddress = { family, address: ip, port };
    const external = this.externalIps.get(ip) ?? this.externalIps.get('');
    const advertised = external && ipFamily(external) === family ? { family, address: external, port } : local;
    const keys = [...new Set([addressKey(local), addressKey(advertised)])];
    const relay: OpenRelay = { advertised, onIncoming };
    // Relay IPs sharing one external IP may advertise the same address: the first keeps it.
    for (const key of keys) if (!this.relays.has(key)) this.relays.set(key, relay);
    let closed = false;
    return {
      local,
      advertised,
      connect: (peer, timeoutMs) => {
        const target = this.relays.get(addressKey(peer));
        if (target) return Promise.resolve(this.joinRelays(advertised, target));
        return new Promise((resolve) => {
          const socket = connect({ host: peer.address, port: peer.port, localAddress: ip, timeout: timeoutMs });
          const fail = (): void => {
            socket.destroy();
            resolve(undefined);
          };
          socket.once('error', fail);
          socket.once('timeout', fail);
          socket.once('connect', () => {
            socket.removeListener('error', fail);
            socket.removeListener('timeout', fail);
            socket.setTimeout(0);
            resolve(StreamPeerConnection.fromSocket(socket));
          });
        });
      },
      close: () => {
        if (closed) return;
        closed = true;
        for (const key of keys) if (this.relays.get(key) === relay) this.relays.delete(key);
        this.servers.delete(server);
        server.close();
        this.pools.get(ip)?.release(port);
      },
    };
  }
}
