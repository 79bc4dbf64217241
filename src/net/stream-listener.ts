/**
 * TCP listeners for STUN/TURN over TCP and TLS. As coturn does, either may arrive on either
 * port: the first byte tells them apart (0x16 opens a TLS handshake, RFC 7983).
 */
import { createServer, type Socket } from 'node:net';
import { formatTransportAddress, ipFamily, type TransportAddress } from '../stun/ip.js';
import type { TurnEngine } from '../turn/engine.js';
import type { Logger } from '../log/logger-interface.js';
import { parseProxyHeader } from './proxy-protocol.js';
import { listenFirstTcpOfGroup, listenTcp, probeTcpPort, type GroupRole } from './reuse-port.js';
import { nativeTcpAccept, type NativeTcpAccept } from './native-tcp-accept.js';
import { nativePlainTcp } from './native-stream.js';
import type { OnreadReads, StreamSocket } from './stream-reads.js';
import type { ChannelDataWriter } from './native-frame-writer.js';
import { StreamSession } from './stream-session.js';
import type { TlsTerminator, OnSecure } from './tls-terminator.js';

const TLS_HANDSHAKE = 0x16;
/** A connection that says nothing at all is closed after this. */
const FIRST_BYTE_TIMEOUT_MS = 10_000;

export interface StreamOptions {
  readonly maxAllocateTimeoutSeconds: number;
  /** `tcp-proxy-port`: every connection starts with a load balancer's PROXY header. */
  readonly proxyProtocol?: boolean;
}

/** The one place a client-facing TCP listener's options are made, so joining a port group is decided here. */
export class StreamListener {
  private readonly sockets = new Set<StreamSocket>();
  local: TransportAddress;

  /** Who accepts: native/tcp-accept.c (where it is built; not on tcp-proxy-port) or net.Server. */
  accepting: 'native' | 'net.Server' = 'net.Server';
  /** Stops accepting; set once listening. */
  private stopAccepting: () => Promise<void> = () => Promise.resolve();

  private constructor(address: string, port: number) {
    this.local = { family: ipFamily(address) ?? 4, address, port };
  }

  static async listen(
    address: string,
    port: number,
    engine: TurnEngine,
    tls: TlsTerminator | undefined,
    options: StreamOptions,
    logger: Logger,
    /** With relay workers, the first starts the port's reuse group and the others join it. */
    role: GroupRole = 'alone',
  ): Promise<StreamListener> {
    const listener = new StreamListener(address, port);
    // A PROXY header still goes through net.Server; TLS takes over the native socket (onNativeConnection).
    const native = options.proxyProtocol ? undefined : nativeTcpAccept();
    const bound = native && 'accept' in native
      ? await listener.listenNatively(native.accept, engine, tls, options, logger, role)
      : await listener.listenWithServer(engine, tls, options, logger, role);
    listener.local = { ...listener.local, port: bound };
    return listener;
  }

  private async listenWithServer(engine: TurnEngine, tls: TlsTerminator | undefined, options: StreamOptions, logger: Logger, role: GroupRole): Promise<number> {
    const { address, port } = this.local;
    const server = createServer();
    server.on('connection', (socket) => this.onConnection(socket, engine, tls, options, logger));
    server.on('error', (error) => logger.warn(`TCP ${address}:${port}: ${error.message}`));
    this.stopAccepting = () => new Promise((resolve) => server.close(() => resolve()));
    // Alone, the TCP port is plain; relay workers share it (the first only if nobody holds it).
    return role === 'first' ? listenFirstTcpOfGroup(server, address, port) : listenTcp(server, address, port, role === 'member');
  }

  /** native/tcp-accept.c accepts, and each socket reads into one reused buffer (docs/native-tcp-accept.md). */
  private async listenNatively(native: NativeTcpAccept, engine: TurnEngine, tls: TlsTerminator | undefined, options: StreamOptions, logger: Logger, role: GroupRole): Promise<number> {
    const { address, port, family } = this.local;
    // The first of a group binds only where a plain bind succeeds: nobody else holds the port (reuse-port.ts).
    const chosen = role === 'first' ? await probeTcpPort(address, port) : port;
    const listening = native.listen(family, address, chosen, role !== 'alone', (socket, reads, frames, fd) => this.onNativeConnection(socket, reads, frames, fd, engine, tls, options, logger));
    this.stopAccepting = () => {
      listening.close();
      return Promise.resolve();
    };
    this.accepting = 'native';
    return listening.port;
  }

  /** Open client connections on this listener. */
  get connections(): number {
    return this.sockets.size;
  }

  describe(): string {
    return formatTransportAddress(this.local);
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return this.stopAccepting();
  }

  /** Closed with the listener. */
  private remember(socket: StreamSocket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** Every connection, until it has said something, gets this far. */
  private track(socket: Socket): void {
    this.remember(socket);
    socket.on('error', () => {}); // reported by the session once it has one
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
  }

  private onNativeConnection(socket: Socket, reads: OnreadReads, frames: ChannelDataWriter | undefined, fd: number, engine: TurnEngine, tls: TlsTerminator | undefined, options: StreamOptions, logger: Logger): void {
    this.track(socket);
    reads.onData((first) => {
      socket.setTimeout(0);
      if (first[0] === TLS_HANDSHAKE) {
        if (!tls) socket.destroy(); // TLS is off: no certificate configured
        else if (!tls.adopt(socket, fd, first, (adopted) => this.remember(adopted))) {
          // Node's TLS on this socket: adopt() took none (it closes the socket when it does).
          reads.release(first);
          tls.accept(socket);
        }
        return;
      }
      if (this.adoptPlain(socket, fd, first, engine, options, logger)) return;
      reads.unshift(first);
      new StreamSession('tcp', socket, engine, logger, options.maxAllocateTimeoutSeconds, undefined, reads, frames);
    });
  }

  /**
   * Plain TCP run in C as TLS is (native/stream-conn.c, docs/native-tcp-accept.md): the addon
   * reads a dup of `fd`, `first` first, and the net.Socket goes. False where the addon is not
   * there or TURNPIKE_TCP=node: the socket stays Node's.
   */
  private adoptPlain(socket: Socket, fd: number, first: Buffer, engine: TurnEngine, options: StreamOptions, logger: Logger): boolean {
    const native = nativePlainTcp();
    if (!('streams' in native)) return false;
    const endpoints = { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, localAddress: socket.localAddress, localPort: socket.localPort };
    try {
      const adopted = native.streams.adoptPlain(fd, first, endpoints);
      this.remember(adopted);
      new StreamSession('tcp', adopted, engine, logger, options.maxAllocateTimeoutSeconds, undefined, adopted.reads, adopted);
    } catch (error) {
      logger.warn(`TCP: cannot take over the connection from ${socket.remoteAddress}: ${(error as Error).message}`);
    }
    socket.destroy(); // the addon reads its own copy of the descriptor
    return true;
  }

  private onConnection(socket: Socket, engine: TurnEngine, tls: TlsTerminator | undefined, options: StreamOptions, logger: Logger): void {
    this.track(socket);
    if (options.proxyProtocol) return readProxyHeader(socket, logger, (client) => {
      socket.setTimeout(0);
      new StreamSession('tcp', socket, engine, logger, options.maxAllocateTimeoutSeconds, client);
      socket.resume();
    });
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE) {
        if (tls) tls.accept(socket);
        else socket.destroy(); // TLS is off: no certificate configured
        return;
      }
      new StreamSession('tcp', socket, engine, logger, options.maxAllocateTimeoutSeconds);
      socket.resume();
    });
  }
}

/**
 * Reads a PROXY header off the start of `socket`, then hands over the client it names (or
 * none, for a health check) with what followed put back. A connection without a valid
 * header is closed: on this port every client comes through the balancer.
 */
function readProxyHeader(socket: Socket, logger: Logger, then: (client: TransportAddress | undefined) => void): void {
  let pending = Buffer.alloc(0);
  const onData = (data: Buffer): void => {
    pending = Buffer.concat([pending, data]);
    const header = parseProxyHeader(pending);
    if (header.kind === 'incomplete') return;
    socket.off('data', onData);
    socket.pause();
    if (header.kind === 'invalid') {
      logger.debug(`TCP from ${socket.remoteAddress} on tcp-proxy-port closed: ${header.reason}`);
      socket.destroy();
      return;
    }
    const rest = pending.subarray(header.length);
    if (rest.length > 0) socket.unshift(rest);
    then(header.client);
  };
  socket.on('data', onData);
}

/** The TLS connection, once its handshake is done, becomes a session like a TCP one. */
export function tlsSessionFactory(engine: TurnEngine, options: StreamOptions, logger: Logger): OnSecure {
  return (socket, reads, frames) => void new StreamSession('tls', socket, engine, logger, options.maxAllocateTimeoutSeconds, undefined, reads, frames);
}
