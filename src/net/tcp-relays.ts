/**
 * RFC 6062 TCP relays: a listening socket on the relay address for peers that connect in,
 * and outgoing connections to peers that clients Connect to. Node sets SO_REUSEPORT only on
 * listening sockets (reusePort), not on outgoing ones, so outgoing connections leave from the
 * relay IP with a port of the kernel's choosing rather than from the relayed port itself
 * (RFC 6062 §5.2 asks for the latter).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ipFamily, type IpFamily, type TransportAddress } from '../stun/ip.js';
import type { Logger } from '../log/logger-interface.js';
import type { PeerConnection, TcpRelayEndpoint, TcpRelayOpenResult, TcpRelayProvider } from '../turn/relay.js';
import { PortPool } from './port-pool.js';

const LISTEN_ATTEMPTS = 16;
/** Peer bytes held until the client's data connection is bound; past this the peer is paused. */
const PENDING_BYTES = 64 * 1024;

class TcpPeerConnection implements PeerConnection {
  readonly peer: TransportAddress;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private joined = false;

  constructor(private readonly socket: Socket) {
    this.peer = { family: ipFamily(socket.remoteAddress ?? '') ?? 4, address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    socket.setNoDelay(true);
    socket.on('error', () => {}); // the close that follows is what counts
    socket.on('data', (data: Buffer) => {
      if (this.joined) return;
      this.pending.push(data);
      this.pendingBytes += data.length;
      if (this.pendingBytes > PENDING_BYTES) socket.pause();
    });
  }

  join(client: Duplex, early: Buffer, count?: (fromPeer: boolean, bytes: number) => void): void {
    this.joined = true;
    this.socket.removeAllListeners('data');
    for (const chunk of this.pending) {
      client.write(chunk);
      count?.(true, chunk.length);
    }
    this.pending = [];
    if (early.length > 0) {
      this.socket.write(early);
      count?.(false, early.length);
    }
    // pipe() carries backpressure both ways; each side's end closes the other.
    this.socket.pipe(client);
    client.pipe(this.socket);
    if (count) {
      this.socket.on('data', (chunk: Buffer) => count(true, chunk.length));
      client.on('data', (chunk: Buffer) => count(false, chunk.length));
    }
    this.socket.once('close', () => client.destroy());
    client.once('close', () => this.socket.destroy());
    this.socket.resume();
  }

  close(): void {
    this.socket.destroy();
  }

  onClose(listener: () => void): void {
    if (this.socket.destroyed) listener();
    else this.socket.once('close', listener);
  }
}

export class TcpRelays implements TcpRelayProvider {
  private readonly pools = new Map<string, PortPool>();
  private readonly servers = new Set<Server>();

  constructor(
    private readonly relayIps: readonly string[],
    minPort: number,
    maxPort: number,
    private readonly externalIps: ReadonlyMap<string, string>,
    private readonly logger: Logger,
  ) {
    for (const ip of relayIps) this.pools.set(ip, new PortPool(minPort, maxPort));
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
      server.on('connection', (socket) => onIncoming(new TcpPeerConnection(socket)));
      return { ok: true, endpoint: this.endpoint(server, ip, port) };
    }
    return { ok: false, reason: 'exhausted' };
  }

  close(): void {
    for (const server of this.servers) server.close();
    this.servers.clear();
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

  private endpoint(server: Server, ip: string, port: number): TcpRelayEndpoint {
    const family = ipFamily(ip)!;
    const local: TransportAddress = { family, address: ip, port };
    const external = this.externalIps.get(ip) ?? this.externalIps.get('');
    const advertised = external && ipFamily(external) === family ? { family, address: external, port } : local;
    let closed = false;
    return {
      local,
      advertised,
      connect: (peer, timeoutMs) =>
        new Promise((resolve) => {
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
            resolve(new TcpPeerConnection(socket));
          });
        }),
      close: () => {
        if (closed) return;
        closed = true;
        this.servers.delete(server);
        server.close();
        this.pools.get(ip)?.release(port);
      },
    };
  }
}
