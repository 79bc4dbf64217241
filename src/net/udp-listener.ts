/**
 * A UDP socket clients talk STUN/TURN to. Sessions (5-tuples) with an allocation are indexed
 * by address then port, so finding one per datagram builds no string. On Linux the listener
 * heads an SO_REUSEPORT group, so that each allocated client gets its own connected socket on
 * the same addr:port, as in coturn (udp-session-socket.ts). Its own socket is native batched I/O
 * where the thread has it, else dgram (listener-socket.ts): the handling here is the same for both.
 */
import type { RemoteInfo } from 'node:dgram';
import type { TransportAddress } from '../stun/ip.js';
import { formatTransportAddress, ipFamily } from '../stun/ip.js';
import type { Allocation } from '../turn/allocation.js';
import type { TurnEngine } from '../turn/engine.js';
import type { Logger } from '../log/logger-interface.js';
import type { ClientSession } from '../turn/session.js';
import { channelDataHeader, stableBytes } from '../stun/channel-data.js';
import type { GroupRole } from './reuse-port.js';
import { PER_SESSION_SOCKETS, openListenerSocket, type ListenerSocket } from './listener-socket.js';
import { openSessionSocket, type SessionSocket } from './udp-session-socket.js';
import type { OwnSocket } from './dtls/endpoint.js';
import { looksLikeDtlsAt } from './dtls/record.js';
import { DatagramOrder } from './datagram-order.js';
import { nativeUdpIo, routesChannelsInC } from './native-udp/addon.js';
import type { ChannelRouter } from '../turn/routed-channels.js';

/** A DTLS datagram, `length` bytes of `data` from `offset`, valid until the handler returns. */
export type DtlsDatagramHandler = (data: Buffer, offset: number, length: number) => void;

class UdpSession implements ClientSession {
  readonly transport = 'udp' as const;
  readonly remote: TransportAddress;
  allocation: Allocation | undefined;
  allocating = false;
  /** This client's own connected socket while it has an allocation. */
  private ownSocket: SessionSocket | undefined;
  /** Forwarded by another relay worker: not pinned to this one until its own socket is. */
  pinOnAllocation = false;
  /** Requests being answered (an await inside), and datagrams put off behind them (datagram-order.ts). */
  readonly order = new DatagramOrder((busy) => this.ownSocket?.hold?.(busy));

  constructor(
    private readonly listener: UdpListener,
    rinfo: RemoteInfo,
  ) {
    this.remote = { family: rinfo.family === 'IPv6' ? 6 : 4, address: rinfo.address, port: rinfo.port };
  }

  get local(): TransportAddress {
    return this.listener.local;
  }

  get routesChannels(): boolean {
    return this.listener.socket.io === 'native' && routesChannelsInC();
  }

  get channelRouter(): ChannelRouter | undefined {
    return this.ownSocket?.channelRouter;
  }

  private ownSocketOpened(socket: SessionSocket | undefined): void {
    this.ownSocket = socket;
    if (socket && this.order.busy) socket.hold?.(true);
  }

  setAllocation(allocation: Allocation | undefined): void {
    this.allocation = allocation;
    this.reindex();
    if (allocation) {
      if (this.ownSocket) return;
      if (this.listener.pinsClients) {
        this.ownSocketOpened(this.listener.openSessionSocket(this.remote, this.pinOnAllocation, this));
        return;
      }
      // Alone, nothing waits for this socket: opened after the Allocate's answer is sent (it
      // was 0.08 ms of the answer's time), the client's datagrams reach the listener meanwhile.
      setImmediate(() => {
        if (this.allocation === allocation && !this.ownSocket) this.ownSocketOpened(this.listener.openSessionSocket(this.remote, false, this));
      });
    } else if (this.ownSocket) {
      this.listener.closeSessionSocket(this.ownSocket);
      this.ownSocket = undefined;
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

  sendQueuedNow(): void {
    nativeUdpIo()?.sendQueuedNow();
  }

  send(data: Buffer | Buffer[]): void {
    if (this.ownSocket) this.ownSocket.send(data);
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

  sendChannelDataFrom(channel: number, data: Buffer, offset: number, length: number): boolean {
    if (this.ownSocket?.sendChannelData) this.ownSocket.sendChannelData(channel, data, offset, length);
    else this.send([channelDataHeader(channel, length), stableBytes(data, offset, length)]);
    return true;
  }
}

export class UdpListener {
  /** Native batched I/O or dgram (listener-socket.ts): set by listen(). */
  socket!: ListenerSocket;
  /** Datagrams the listener's own socket handed to JS (not the per-session sockets', nor Bindings answered in C). */
  received = 0;
  private readonly sessions = new Map<string, Map<number, UdpSession>>();
  private readonly sessionSockets = new Set<SessionSocket>();
  /**
   * Sessions made during this native batch for sources that had none: a second datagram of such
   * a source in the batch (an Allocate and its retransmission, queued while the server was busy)
   * finds the first's session and waits behind it (datagram-order.ts), as with dgram it would
   * have found it indexed; else both were allocated. Forgotten at the next batch (at most one
   * batch's datagrams): nothing per source outlives it.
   */
  private readonly newInBatch = new Map<string, UdpSession>();
  private newInBatchOf = -1;
  /** Off where the kernel cannot share the port, or refused to (another user's group). */
  private sessionSocketsEnabled = PER_SESSION_SOCKETS;
  local: TransportAddress;
  /** A relay worker's listener: its sockets pin clients to it (sends held until connected, openDtlsSocket). */
  readonly pinsClients: boolean;
  /** Ends the plain Binding answers below JS of a native listener, its last count read (engine.answerBindingsBelow). */
  private stopBindingAnswers: (() => void) | undefined;
  /** Set when this port also serves DTLS: it takes the datagrams RFC 7983 says are DTLS. */
  onDtls: ((data: Buffer, rinfo: RemoteInfo) => void) | undefined;

  private constructor(
    address: string,
    port: number,
    private readonly engine: TurnEngine,
    private readonly logger: Logger,
    role: GroupRole,
  ) {
    this.pinsClients = role !== 'alone';
    const family = ipFamily(address) ?? 4;
    this.local = { family, address, port };
  }

  /** `role`: with relay workers, the first starts the port's reuse group and the others join it. */
  static async listen(address: string, port: number, engine: TurnEngine, logger: Logger, role: GroupRole = 'alone'): Promise<UdpListener> {
    const listener = new UdpListener(address, port, engine, logger, role);
    // Every listener may head a group (its per-session sockets); relay workers share one.
    listener.socket = await openListenerSocket({
      family: listener.local.family,
      address,
      port,
      role,
      onDatagram: listener.atListener,
      onError: (error) => logger.warn(`UDP ${address}:${port}: ${error.message}`),
    });
    listener.local = { ...listener.local, port: listener.socket.port };
    const answerer = listener.socket.bindingAnswerer;
    if (answerer) listener.stopBindingAnswers = engine.answerBindingsBelow(answerer);
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
   * A socket of its own for an allocated client; undefined where that is not possible.
   * `forwarded`: a client another relay worker forwarded here (serveForwarded). `session`: its
   * ChannelData is relayed straight from a native receive area (no session lookup, no copy).
   * `onDtls`: its DTLS datagrams, handled where they lie in that area.
   */
  openSessionSocket(remote: TransportAddress, forwarded: boolean, session?: UdpSession, onDtls?: DtlsDatagramHandler): SessionSocket | undefined {
    const client = formatTransportAddress(remote);
    if (!this.sessionSocketsEnabled) {
      if (forwarded) this.logger.warn(`UDP ${formatTransportAddress(this.local)} -> ${client}: client not pinned to this relay worker (no per-session sockets); its next datagrams may reach another worker`);
      return undefined;
    }
    const socket: SessionSocket = openSessionSocket({
      local: this.local,
      remote,
      onDatagram: this.onDatagram,
      onChannelData: session && ((data, offset, length) => this.onChannelData(session, data, offset, length)),
      onDtls: onDtls && ((data, offset, length) => this.onDtlsAt(onDtls, remote, data, offset, length)),
      onOpenFailed: (error) => this.sessionSocketFailed(socket, client, error),
      onError: (error) => this.logger.debug(`UDP ${formatTransportAddress(this.local)} -> ${client}: ${error.message}`),
      viaListener: (data) => this.socket.send(data, remote.port, remote.address),
      // With relay workers, the client's next request must find this socket (udp-session-socket.ts).
      holdUntilConnected: this.pinsClients,
    });
    this.sessionSockets.add(socket);
    return socket;
  }

  private sessionSocketFailed(socket: SessionSocket, client: string, error: NodeJS.ErrnoException): void {
    this.sessionSockets.delete(socket);
    const where = `UDP ${formatTransportAddress(this.local)}`;
    if (error.code === 'EADDRINUSE' && this.sessionSocketsEnabled) {
      // The group belongs to another user (bound before proc-user took effect): the listener serves all.
      this.sessionSocketsEnabled = false;
      this.logger.warn(`${where}: no per-session sockets (${error.message}); clients are served by the listener alone`);
    } else {
      this.logger.debug(`${where}: no socket of its own for ${client}: ${error.message}`);
    }
  }

  /**
   * A DTLS association's own socket (dtls/endpoint.ts says when): its records leave with a
   * connected send, and its datagrams reach it, not the listener (with native I/O, `onDtls`
   * where they lie). Undefined where the listener serves all.
   */
  openDtlsSocket(remote: TransportAddress, onDtls?: DtlsDatagramHandler): OwnSocket | undefined {
    const socket = this.openSessionSocket(remote, false, undefined, onDtls);
    return (
      socket && {
        send: (data) => socket.send(data),
        close: () => this.closeSessionSocket(socket),
        sendArea: socket.sendArea,
        channelRouter: socket.channelRouter,
        attachDtls: socket.attachDtls && ((keys, shared) => socket.attachDtls!(keys, shared)),
      }
    );
  }

  /** A DTLS association's own socket may relay its channels in C (dtls/endpoint.ts). */
  get routesChannels(): boolean {
    return this.socket.io === 'native' && routesChannelsInC();
  }

  closeSessionSocket(socket: SessionSocket): void {
    this.sessionSockets.delete(socket);
    socket.close();
  }

  /**
   * An Allocate another relay worker received from `client` on this addr:port (its
   * RESERVATION-TOKEN names this worker): served as if it had arrived here, and the client
   * pinned to this worker by its own socket once it has its allocation.
   */
  serveForwarded(packet: Buffer, client: TransportAddress): void {
    const rinfo: RemoteInfo = { address: client.address, family: client.family === 6 ? 'IPv6' : 'IPv4', port: client.port, size: packet.length };
    const session = this.sessions.get(client.address)?.get(client.port) ?? new UdpSession(this, rinfo);
    session.pinOnAllocation = true;
    void this.engine.handlePacket(session, packet);
  }

  close(): Promise<void> {
    this.stopBindingAnswers?.();
    for (const socket of this.sessionSockets) socket.close();
    this.sessionSockets.clear();
    return this.socket.close();
  }

  /** ChannelData from a session's own socket with native I/O: `length` bytes of `data` from `offset`. */
  private onChannelData(session: UdpSession, data: Buffer, offset: number, length: number): void {
    if (session.order.mustWait()) {
      // Out of the receive area, which the next turn reuses.
      const copy = Buffer.from(data.subarray(offset, offset + length));
      return session.order.later(() => this.relayChannelData(session, copy, 0, length));
    }
    this.relayChannelData(session, data, offset, length);
  }

  private relayChannelData(session: UdpSession, data: Buffer, offset: number, length: number): void {
    try {
      this.engine.handleChannelData(session, data, offset, length);
    } catch (error) {
      this.dropped(length, session.remote.address, session.remote.port, error);
    }
  }

  /** A DTLS datagram from a session's own socket with native I/O, where it lies. */
  private onDtlsAt(onDtls: DtlsDatagramHandler, remote: TransportAddress, data: Buffer, offset: number, length: number): void {
    try {
      onDtls(data, offset, length);
    } catch (error) {
      this.dropped(length, remote.address, remote.port, error);
    }
  }

  private readonly atListener = (data: Buffer, rinfo: RemoteInfo): void => {
    this.received++;
    this.onDatagram(data, rinfo);
  };

  /** Every datagram, from the listener or from a session's own socket. */
  private readonly onDatagram = (data: Buffer, rinfo: RemoteInfo): void => {
    try {
      if (this.onDtls && looksLikeDtlsAt(data, 0, data.length)) return this.onDtls(data, rinfo);
      const session = this.sessions.get(rinfo.address)?.get(rinfo.port) ?? this.newSession(rinfo);
      if (session.order.mustWait()) return session.order.later(() => this.handle(session, data, rinfo));
      this.handle(session, data, rinfo);
    } catch (error) {
      this.dropped(data.length, rinfo.address, rinfo.port, error);
    }
  };

  private newSession(rinfo: RemoteInfo): UdpSession {
    const io = nativeUdpIo();
    if (!io?.handingOverBatch) return new UdpSession(this, rinfo);
    if (this.newInBatchOf !== io.batch) {
      // Datagrams of an earlier batch that were put off hold their session themselves.
      this.newInBatch.clear();
      this.newInBatchOf = io.batch;
    }
    const key = `${rinfo.address}|${rinfo.port}`;
    let session = this.newInBatch.get(key);
    if (!session) this.newInBatch.set(key, (session = new UdpSession(this, rinfo)));
    return session;
  }

  private handle(session: UdpSession, data: Buffer, rinfo: RemoteInfo): void {
    try {
      session.order.track(this.engine.handlePacket(session, data));
    } catch (error) {
      this.dropped(data.length, rinfo.address, rinfo.port, error);
    }
  }

  /** The engine answers or drops bad input itself; reaching here is a bug, never a crash. */
  private dropped(bytes: number, address: string, port: number, error: unknown): void {
    this.engine.malformed(bytes);
    this.logger.error(`UDP ${address}:${port}: datagram dropped: ${error instanceof Error ? error.stack : String(error)}`);
  }
}
