/**
 * coturn's per-session socket: once a UDP client has an allocation, a socket bound to the
 * listening addr:port (in the listener's reuse group) and connected to the client. The kernel
 * then delivers that client's datagrams to it rather than to the listener, and whatever the
 * client is sent leaves through it with a connected send. With relay workers it also pins
 * the client to the worker that holds its allocation (docs/relay-workers.md §2).
 *
 * Between bind and connect it is an unconnected member of the group: it changes the group's
 * size, so the kernel's hash sends the datagrams of every client not pinned yet to other
 * members, and other workers, than before, and some to this socket. So both calls are made in
 * one JavaScript turn (bind is synchronous with udp-socket.ts's lookup), two system calls
 * apart: with an await between them, relay workers answered a client's Refresh sent right
 * after its Allocate from another worker (437) and allocated again on retransmissions
 * (docs/relay-workers.md, fact 2). A stray that still lands in that window is handed to the
 * listener's own entry, which serves it as if the listener had it.
 */
import type { RemoteInfo } from 'node:dgram';
import type { TransportAddress } from '../stun/ip.js';
import type { ChannelRouter } from '../turn/routed-channels.js';
import type { KeyBlock } from './dtls/suites.js';
import { nativeUdpIo } from './native-udp/addon.js';
import { NativeSessionSocket } from './native-udp/session-socket.js';
import { createUdpSocket } from './udp-socket.js';

export type Datagram = Buffer | Buffer[];

/** A client's own connected socket, with dgram or with native batched I/O (native-udp/). */
export interface SessionSocket {
  send(data: Datagram): void;
  /**
   * ChannelData on `channel` with `length` bytes of `data` from `offset`: with native I/O, a
   * part of this turn's receive area is queued without a copy. Absent: send() a header and a copy.
   */
  sendChannelData?(channel: number, data: Buffer, offset: number, length: number): void;
  /** Native I/O: where a datagram can be written in place (a DTLS record sealed there). */
  readonly sendArea?: SendArea;
  close(): void;
  /** Native I/O: relays its client's channels in C (routed-channels.ts); absent with TURNPIKE_UDP_RELAY=js. */
  readonly channelRouter?: ChannelRouter;
  /** Native I/O: while held, none of its datagrams is relayed in C (datagram-order.ts). */
  hold?(held: boolean): void;
  /** Native I/O: a DTLS association's socket, its routed channels' records opened and sealed in C (io.ts). */
  attachDtls?(keys: KeyBlock, shared: Float64Array): boolean;
}

/** A part of native I/O's send area, written in place and sent with this turn's batch. */
export interface SendArea {
  readonly buffer: Buffer;
  /** Where `length` bytes to send can be written in `buffer`, or -1: then send() a Buffer. */
  reserve(length: number): number;
  /** Sends the `length` bytes written at `at` (reserve()'s, before anything else is sent). */
  sendWritten(at: number, length: number): void;
}

/** Native batched I/O when this thread has it, else dgram. */
export function openSessionSocket(options: SessionSocketOptions): SessionSocket {
  const io = nativeUdpIo();
  return io ? new NativeSessionSocket(io, options) : new UdpSessionSocket(options);
}

export interface SessionSocketOptions {
  readonly local: TransportAddress;
  readonly remote: TransportAddress;
  /** The listener's entry: this socket's datagrams are the listener's. */
  readonly onDatagram: (data: Buffer, rinfo: RemoteInfo) => void;
  /**
   * Native I/O: a ChannelData datagram (`length` bytes of `data` from `offset`, at least its
   * header), handled without a copy; without it, ChannelData goes to onDatagram as a Buffer.
   */
  readonly onChannelData?: (data: Buffer, offset: number, length: number) => void;
  /**
   * Native I/O: a DTLS datagram (first byte 20-63, RFC 7983), `length` bytes of `data` from
   * `offset`, handled where it lies; without it, DTLS goes to onDatagram as a Buffer.
   */
  readonly onDtls?: (data: Buffer, offset: number, length: number) => void;
  /** It could not be opened (bind or connect failed); it is closed already. */
  readonly onOpenFailed: (error: NodeJS.ErrnoException) => void;
  /** Errors of an open socket, such as ECONNREFUSED after an ICMP port unreachable. */
  readonly onError: (error: Error) => void;
  /** Sends through the listener's socket: before connect, or when this socket failed. */
  readonly viaListener: (data: Datagram) => void;
  /**
   * Hold sends until connected: with relay workers, a client must find this socket with the
   * request it sends on reading the answer, or that request may reach another worker (437).
   * Without workers, sends go through the listener meanwhile.
   */
  readonly holdUntilConnected: boolean;
}

export class UdpSessionSocket implements SessionSocket {
  private readonly socket;
  private connected = false;
  private closed = false;
  /** Sends waiting for connect; undefined when not holding (or no longer). */
  private held: Datagram[] | undefined;

  constructor(private readonly options: SessionSocketOptions) {
    const { local, remote } = options;
    this.held = options.holdUntilConnected ? [] : undefined;
    this.socket = createUdpSocket(local.family, { reusePort: true });
    this.socket.on('message', options.onDatagram);
    const failed = (error: NodeJS.ErrnoException): void => {
      if (this.closed) return;
      // Closed at once: held and later sends go through the listener, never lost or held on.
      this.close();
      // A refused bind (another user's group after proc-user) is emitted within bind, so within
      // this constructor: reported once the owner holds this socket (it threw into the request, 500).
      queueMicrotask(() => options.onOpenFailed(error));
    };
    this.socket.once('error', failed);
    // Connected in the turn it is bound ('listening' is emitted within bind): see above.
    this.socket.once('listening', () => {
      if (this.closed) return;
      this.socket.connect(remote.port, remote.address, (error?: Error | null) => {
        if (error) return failed(error);
        this.socket.off('error', failed);
        this.socket.on('error', options.onError);
        if (this.closed) return;
        this.connected = true;
        this.flush((data) => this.socket.send(data));
      });
    });
    this.socket.bind({ address: local.address, port: local.port, exclusive: true });
  }

  send(data: Datagram): void {
    if (this.connected) this.socket.send(data);
    else if (this.held && !this.closed) this.held.push(data);
    else this.options.viaListener(data);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    // An answer sent as the allocation ends (Refresh 0), or before a failed connect, still goes out.
    this.flush(this.options.viaListener);
    try {
      this.socket.close();
    } catch {
      // Already closed by a failed bind.
    }
  }

  private flush(send: (data: Datagram) => void): void {
    const held = this.held;
    this.held = undefined;
    for (const data of held ?? []) send(data);
  }
}
