/**
 * Where a client connection's bytes go. A socket net.Server accepted emits them as 'data'
 * events; one made from a natively accepted fd (native-tcp-accept.ts) reads them into a buffer
 * its thread reuses, through the `onread` callback: a handler that takes views (a session's framer)
 * gets the read in place, any other a copy.
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/**
 * What a session uses of its connection: a net.Socket, or a TLS connection the addon runs
 * (native-tls.ts's NativeTlsSocket).
 */
export interface StreamSocket {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly writable: boolean;
  readonly writableLength: number;
  write(data: Buffer, done?: (error?: Error | null) => void): boolean;
  end(): unknown;
  destroy(): unknown;
  pause(): unknown;
  resume(): unknown;
  setNoDelay(noDelay?: boolean): unknown;
  on(event: string, listener: (...args: any[]) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
  /** net.Socket's: bytes put back for whoever reads the socket next. */
  unshift?(data: Buffer): void;
}

export interface StreamReads {
  /**
   * Every chunk read from now on goes to `handler`, which owns it (may keep it); with
   * `takesViews`, a chunk may instead be a view of a buffer the next read overwrites, valid
   * only while the handler runs (what the handler keeps, it copies).
   */
  onData(handler: (data: Buffer) => void, takesViews?: boolean): void;
  /**
   * The connection as a Duplex whose reads are the socket's bytes and whose writes go to it:
   * RFC 6062 pipes it to a peer. The handler given to onData gets nothing more.
   */
  asDuplex(): Duplex;
}

/** net.Server's sockets: the socket itself is the stream. */
export class DataEventReads implements StreamReads {
  constructor(private readonly socket: Socket) {}

  onData(handler: (data: Buffer) => void): void {
    this.socket.on('data', handler);
  }

  asDuplex(): Duplex {
    this.socket.removeAllListeners('data');
    return this.socket;
  }
}

/** A socket made with `onread`: deliver() is its callback. */
export class OnreadReads implements StreamReads {
  private handler: ((data: Buffer) => void) | undefined;
  /** The handler takes views of the read buffer: no copy per read (StreamSession's framer copies what it holds). */
  private takesViews = false;
  /** Put back, or read before anyone took them (the socket is paused then): the next handler's first. */
  private early: Buffer[] = [];
  private pausedEarly = false;
  private socket: StreamSocket | undefined;

  attach(socket: StreamSocket): void {
    this.socket = socket;
  }

  /** The onread callback: `length` bytes of `buffer`, which the next read overwrites. False pauses the socket. */
  deliver(buffer: Buffer, length: number): boolean {
    if (this.handler && this.takesViews) {
      this.handler(buffer.subarray(0, length));
      return true;
    }
    const data = Buffer.allocUnsafe(length);
    data.set(buffer.subarray(0, length));
    if (!this.handler) {
      this.early.push(data);
      this.pausedEarly = true;
      return false;
    }
    this.handler(data);
    return true;
  }

  /** Puts `data` back: whoever calls onData next gets it first. */
  unshift(data: Buffer): void {
    this.early.unshift(data);
    this.setHandler(undefined, false);
  }

  private setHandler(handler: ((data: Buffer) => void) | undefined, takesViews: boolean): void {
    this.handler = handler;
    this.takesViews = takesViews;
  }

  /**
   * Someone else reads the socket from now on: tls.TLSSocket puts its TLS layer on the socket's
   * own handle (in C++, as for a socket net.Server accepted, no JS stream in between) and first
   * takes what the socket's Readable buffer holds, where `data` goes. The onread callback gets
   * nothing more while TLS is on the handle; should it, the connection is closed.
   */
  release(data: Buffer): void {
    this.setHandler(() => this.socket?.destroy(), false);
    this.socket!.unshift?.(data);
  }

  onData(handler: (data: Buffer) => void, takesViews = false): void {
    this.setHandler(handler, takesViews);
    while (this.early.length > 0 && this.handler === handler) handler(this.early.shift()!);
    if (this.pausedEarly) {
      this.pausedEarly = false;
      this.socket?.resume();
    }
  }

  asDuplex(): Duplex {
    const socket = this.socket!;
    const duplex = new Duplex({
      read: () => void socket.resume(),
      write: (chunk: Buffer, _encoding, done) => void socket.write(chunk, done),
      final: (done) => {
        socket.end();
        done();
      },
      destroy: (error, done) => {
        socket.destroy();
        done(error);
      },
    });
    // Backpressure: a full Duplex pauses the socket until the pipe reads on (read() above).
    this.setHandler((data) => {
      if (!duplex.push(data)) socket.pause();
    }, false);
    socket.once('end', () => duplex.push(null));
    socket.once('close', () => duplex.destroy());
    return duplex;
  }
}
