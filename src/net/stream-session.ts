/**
 * One TCP or TLS client connection: frames in, responses and relayed data out. Its allocation
 * lives and dies with the connection (RFC 8656 §3.1); a connection that has not allocated
 * within `max-allocate-timeout`, or that sends garbage, is closed.
 */
import { Method } from '../stun/constants.js';
import { FramingError, StreamFramer } from '../stun/stream-framer.js';
import type { TransportAddress } from '../stun/ip.js';
import type { Allocation } from '../turn/allocation.js';
import type { TurnEngine } from '../turn/engine.js';
import type { Logger } from '../log/logger-interface.js';
import type { PeerConnection } from '../turn/relay.js';
import type { ClientSession } from '../turn/session.js';
import { DataEventReads, type StreamReads, type StreamSocket } from './stream-reads.js';
import type { ChannelDataWriter } from './native-frame-writer.js';
import type { Socket } from 'node:net';
import { channelDataFrame, looksLikeChannelData } from '../stun/channel-data.js';

/** Relayed data waiting in the socket beyond this is dropped rather than queued without bound. */
export const RELAY_HIGH_WATER = 256 * 1024;

const NOTHING = Buffer.alloc(0);

const addressOf = (address: string | undefined, port: number | undefined): TransportAddress => {
  const text = address ?? '0.0.0.0';
  // Node reports IPv4 clients of a dual-stack socket as ::ffff:a.b.c.d: we listen per family.
  return { family: text.includes(':') ? 6 : 4, address: text, port: port ?? 0 };
};

export class StreamSession implements ClientSession {
  readonly remote: TransportAddress;
  readonly local: TransportAddress;
  allocation: Allocation | undefined;
  allocating = false;
  private readonly framer = new StreamFramer();
  private allocateTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** A ConnectionBind is being answered: what follows it waits (see onFrame). */
  private holding = false;
  /** Bound to a peer connection by ConnectionBind: no more frames. */
  private joined = false;
  private readonly write: (data: Buffer) => void;
  /** Made once: push() is called for every chunk the socket reads. */
  private readonly frameHandler = (frame: Buffer): boolean => this.onFrame(frame);

  constructor(
    readonly transport: 'tcp' | 'tls',
    private readonly socket: StreamSocket,
    private readonly engine: TurnEngine,
    private readonly logger: Logger,
    maxAllocateTimeoutSeconds: number,
    /** The client as a load balancer's PROXY header names it; otherwise the socket's peer. */
    remote?: TransportAddress,
    /** How the socket's bytes arrive: its 'data' events (a net.Socket's or TLSSocket's), unless it was made with `onread` or is the TLS addon's. */
    private readonly reads: StreamReads = new DataEventReads(socket as Socket),
    /** Relayed data written by an addon: native-frame-writer.ts for plain TCP, native-tls.ts for TLS in C; else socket.write. */
    private readonly frames?: ChannelDataWriter,
  ) {
    this.remote = remote ?? addressOf(socket.remoteAddress, socket.remotePort);
    this.local = addressOf(socket.localAddress, socket.localPort);
    socket.setNoDelay(true);
    this.write = transport === 'tls' ? oneRecordPerWrite(socket) : writeAtOnce(socket);
    socket.on('error', (error) => this.logger.debug(`${this.describe()}: ${error.message}`));
    socket.on('close', () => this.onClose());
    this.allocateTimer = setTimeout(() => this.close('no allocation within max-allocate-timeout'), maxAllocateTimeoutSeconds * 1000);
    this.allocateTimer.unref();
    // Chunks may be views of the thread's read buffer: the framer copies what it holds, onFrame
    // what the engine may keep. Last: bytes put back are handed over at once.
    reads.onData((data) => this.onData(data), true);
  }

  setAllocation(allocation: Allocation | undefined): void {
    const had = this.allocation;
    this.allocation = allocation;
    if (allocation) {
      clearTimeout(this.allocateTimer);
      this.allocateTimer = undefined;
    } else if (had) {
      // The allocation ended (expired, or refreshed to 0): so does its control connection.
      this.close('allocation ended');
    }
  }

  setAllocating(allocating: boolean): void {
    this.allocating = allocating;
  }

  send(data: Buffer): void {
    if (!this.closed) this.write(data);
  }

  sendRelayed(data: Buffer): boolean {
    if (this.closed || this.socket.writableLength > RELAY_HIGH_WATER) return false;
    this.write(data);
    return true;
  }

  sendChannelData(header: Buffer, payload: Buffer): boolean {
    return this.sendChannelDataFrom(header.readUInt16BE(0), payload, 0, payload.length);
  }

  /** The frame is made here from `data` (maybe the UDP receive area): no header or payload Buffer of its own. */
  sendChannelDataFrom(channel: number, data: Buffer, offset: number, length: number): boolean {
    if (this.closed || this.socket.writableLength > RELAY_HIGH_WATER) return false;
    // One write of one buffer: cheaper than three writes for the small packets media sends.
    if (this.frames) this.frames.writeChannelData(channel, data, offset, length);
    else this.write(channelDataFrame(channel, data, offset, length));
    return true;
  }

  /** RFC 6062: this connection now carries one peer connection's bytes, unframed. */
  joinPeer(connection: PeerConnection, count?: (fromPeer: boolean, bytes: number) => void): void {
    clearTimeout(this.allocateTimer);
    this.allocateTimer = undefined;
    this.joined = true;
    connection.join(this.reads.asDuplex(), this.framer.takeBuffered(), count);
    this.socket.resume(); // paused while the ConnectionBind was answered (onFrame)
  }

  close(reason: string): void {
    if (this.closed) return;
    this.logger.verbose(`${this.describe()}: closing: ${reason}`);
    this.socket.destroy();
  }

  private onData(data: Buffer): void {
    try {
      this.framer.push(data, this.frameHandler, true);
    } catch (error) {
      if (error instanceof FramingError) {
        this.engine.malformed(data.length);
        this.close(error.message);
      } else {
        this.logger.error(`${this.describe()}: ${error instanceof Error ? error.stack : String(error)}`);
        this.close('internal error');
      }
    }
  }

  /**
   * `frame` is valid only during the call (see onData). ChannelData is relayed before it
   * returns; a STUN message is copied, since an answer may come after an await.
   * False holds what follows a ConnectionBind, unframed and unread, until it is answered: bound,
   * the connection carries the peer's bytes from there on (RFC 6062), which are no frames.
   */
  private onFrame(frame: Buffer): boolean {
    if (looksLikeChannelData(frame)) {
      this.engine.handleChannelData(this, frame);
      return true;
    }
    const message = Buffer.from(frame);
    const handled = this.engine.handlePacket(this, message);
    if (!handled || message.readUInt16BE(0) !== Method.ConnectionBind) return true;
    this.holding = true;
    this.socket.pause();
    void handled.then(() => {
      this.holding = false;
      if (this.closed || this.joined) return;
      this.onData(NOTHING); // not bound: frame what was held, which may hold again
      if (!this.holding) this.socket.resume();
    });
    return false;
  }

  private onClose(): void {
    this.closed = true;
    clearTimeout(this.allocateTimer);
    this.engine.sessionClosed(this, `${this.transport} connection closed`);
  }

  private describe(): string {
    return `${this.transport.toUpperCase()} ${this.remote.address}:${this.remote.port}`;
  }
}

/**
 * Over TCP, each frame is written at once. Most rounds of the event loop carry one frame per
 * client, so batching them per round (cork, then a setImmediate to uncork) cost more than it
 * saved: an Immediate per client per round, for one system call each all the same. A client
 * whose socket cannot take a frame at once still gets its backlog in one system call: Node
 * queues the writes and hands the queue to one writev when the socket drains.
 */
function writeAtOnce(socket: StreamSocket): (data: Buffer) => void {
  return (data) => void socket.write(data);
}

/**
 * Over TLS, each frame is a TLS record of its own, as coturn writes them: its client
 * (turnutils_uclient, and programs built on coturn's client library) takes what one SSL_read
 * returns, one record, for one message, and loses a second frame in the same record. Node puts
 * writes that were corked, or queued behind one in flight, into one record (the stream's
 * _writev hands them to a single SSL_write); without _writev a queue drains one write, one
 * record at a time.
 */
function oneRecordPerWrite(socket: StreamSocket): (data: Buffer) => void {
  // null, as Node's own streams (fs.WriteStream) switch it off; stream-transports.test.ts
  // counts the records, so a Node that stops honouring it fails that test.
  (socket as { _writev?: unknown })._writev = null;
  return (data) => void socket.write(data);
}
