/**
 * A UDP socket clients talk STUN/TURN to. Sessions (5-tuples) with an allocation are indexed
 * by address then port, so finding one per datagram builds no string.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { TransportAddress } from '../stun/ip.js';
import { ipFamily } from '../stun/ip.js';
import type { Allocation } from '../turn/allocation.js';
import type { TurnEngine } from '../turn/engine.js';
import type { Logger } from '../log/logger-interface.js';
import type { ClientSession } from '../turn/session.js';
import { PinnedClient } from './pinned-client.js';

class UdpSession implements ClientSession {
  readonly transport = 'udp' as const;
  readonly remote: TransportAddress;
  allocation: Allocation | undefined;
  allocating = false;
  /** Forwarded by another relay worker: pinned here once it has an allocation (pinned-client.ts). */
  pinOnAllocation = false;
  private pinned: PinnedClient | undefined;

  constructor(
    private readonly listener: UdpListener,
    rinfo: RemoteInfo,
  ) {
    this.remote = { family: rinfo.family === 'IPv6' ? 6 : 4, address: rinfo.address, port: rinfo.port };
  }

  get local(): TransportAddress {
    return this.listener.local;
  }

  setAllocation(allocation: Allocation | undefined): void {
    this.allocation = allocation;
    this.reindex();
    if (allocation && this.pinOnAllocation) this.pinned ??= this.listener.pinClient(this.remote);
    else if (!allocation && this.pinned) {
      this.pinned.close();
      this.pinned = undefined;
    }
  }

  setAllocating(allocating: boolean): void {
    this.allocating = allocating;
    this.reindex();
  }

  /** Only sessions with (or about to have) an allocation are kept: Binding floods cost nothing. */
  private reindex(): void {
    if (this.allocation || this.allocating) this.listener.index(this);
    else this.listener.unindex(this);
  }

  send(data: Buffer | Buffer[]): void {
    if (this.pinned) this.pinned.send(data);
    else this.listener.socket.send(data, this.remote.port, this.remote.address);
  }

  sendRelayed(data: Buffer): boolean {
    this.send(data);
    return true;
  }

  sendChannelData(header: Buffer, payload: Buffer): boolean {
    this.send([header, payload]);
    return true;
  }
}

/** The one place a client-facing UDP socket is made, so joining a port group is decided here. */
function clientFacingSocket(family: 4 | 6, reusePort: boolean): Socket {
  return createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, reusePort });
}

export class UdpListener {
  readonly socket: Socket;
  private readonly sessions = new Map<string, Map<number, UdpSession>>();
  local: TransportAddress;
  /** Set when this port also serves DTLS: it takes the datagrams RFC 7983 says are DTLS. */
  onDtls: ((data: Buffer, rinfo: RemoteInfo) => void) | undefined;

  private constructor(
    address: string,
    port: number,
    private readonly engine: TurnEngine,
    private readonly logger: Logger,
    reusePort: boolean,
  ) {
    const family = ipFamily(address) ?? 4;
    this.local = { family, address, port };
    this.socket = clientFacingSocket(family, reusePort);
    this.socket.on('message', (data, rinfo) => this.onDatagram(data, rinfo));
    this.socket.on('error', (error) => this.logger.warn(`UDP ${address}:${port}: ${error.message}`));
  }

  /** `reusePort`: relay workers each bind the port, in one SO_REUSEPORT group. */
  static async listen(address: string, port: number, engine: TurnEngine, logger: Logger, reusePort = false): Promise<UdpListener> {
    const listener = new UdpListener(address, port, engine, logger, reusePort);
    await new Promise<void>((resolve, reject) => {
      listener.socket.once('error', reject);
      listener.socket.bind({ address, port, exclusive: true }, () => {
        listener.socket.off('error', reject);
        resolve();
      });
    });
    listener.local = { ...listener.local, port: listener.socket.address().port };
    return listener;
  }

  index(session: UdpSession): void {
    let byPort = this.sessions.get(session.remote.address);
    if (!byPort) this.sessions.set(session.remote.address, (byPort = new Map()));
    byPort.set(session.remote.port, session);
  }

  unindex(session: UdpSession): void {
    const byPort = this.sessions.get(session.remote.address);
    if (byPort?.get(session.remote.port) !== session) return;
    byPort.delete(session.remote.port);
    if (byPort.size === 0) this.sessions.delete(session.remote.address);
  }

  /**
   * An Allocate another relay worker received from `client` on this addr:port (its
   * RESERVATION-TOKEN names this worker): served as if it had arrived here, and the client
   * pinned to this worker once it has its allocation.
   */
  serveForwarded(packet: Buffer, client: TransportAddress): void {
    const rinfo: RemoteInfo = { address: client.address, family: client.family === 6 ? 'IPv6' : 'IPv4', port: client.port, size: packet.length };
    const session = this.sessions.get(client.address)?.get(client.port) ?? new UdpSession(this, rinfo);
    session.pinOnAllocation = true;
    void this.engine.handlePacket(session, packet);
  }

  /** A socket of this listener's group connected to `client`, delivering here like the listener. */
  pinClient(client: TransportAddress): PinnedClient {
    const unpinned = (data: Buffer | Buffer[]): void => void this.socket.send(data, client.port, client.address);
    return new PinnedClient(this.local, client, (data, rinfo) => this.onDatagram(data, rinfo), unpinned, this.logger);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private onDatagram(data: Buffer, rinfo: RemoteInfo): void {
    try {
      const first = data[0]!;
      if (this.onDtls && first >= 20 && first <= 63) return this.onDtls(data, rinfo);
      const session = this.sessions.get(rinfo.address)?.get(rinfo.port) ?? new UdpSession(this, rinfo);
      this.engine.handlePacket(session, data);
    } catch (error) {
      // The engine answers or drops bad input itself; reaching here is a bug, never a crash.
      this.engine.malformed(data.length);
      this.logger.error(`UDP ${rinfo.address}:${rinfo.port}: datagram dropped: ${error instanceof Error ? error.stack : String(error)}`);
    }
  }
}
