/**
 * One end of a byte stream between two relay worker threads (an RFC 6062 data connection
 * whose allocation is on another worker). Chunks move as transferred buffers; a credit window
 * carries backpressure: past CREDIT_WINDOW bytes the other end has not yet taken, writes
 * wait, so a pipe into this stream pauses its source as it would for a slow socket.
 */
import { Duplex } from 'node:stream';

/** Bytes in flight (sent, not yet read by the other end) before writes wait. */
export const CREDIT_WINDOW = 256 * 1024;
/** The reader acknowledges in batches of at least this, or whenever it asks for more. */
const CREDIT_BATCH = CREDIT_WINDOW / 4;

/** What the two ends tell each other (workers/messages.ts adds the channel). */
export type StreamSignal =
  | { readonly kind: 'chunk'; readonly data: Uint8Array }
  | { readonly kind: 'credit'; readonly bytes: number }
  | { readonly kind: 'end' }
  | { readonly kind: 'close' };

export class ThreadStream extends Duplex {
  private inFlight = 0;
  private blockedWrite: (() => void) | undefined;
  /** Bytes read from the other end and not yet acknowledged. */
  private owed = 0;
  private closedByOther = false;

  constructor(private readonly signal: (message: StreamSignal) => void) {
    super();
  }

  /** What the other end said. */
  receive(message: StreamSignal): void {
    if (this.destroyed) return;
    switch (message.kind) {
      case 'chunk': {
        const { data } = message;
        this.owed += data.length;
        const wantsMore = this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        if (wantsMore && this.owed >= CREDIT_BATCH) this.acknowledge();
        return;
      }
      case 'credit': {
        this.inFlight -= message.bytes;
        const blocked = this.blockedWrite;
        if (blocked && this.inFlight < CREDIT_WINDOW) {
          this.blockedWrite = undefined;
          blocked();
        }
        return;
      }
      case 'end':
        return void this.push(null);
      case 'close':
        this.closedByOther = true;
        return void this.destroy();
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // A copy that owns its memory, so it can be transferred (a socket's chunk may share a pool).
    const data = new Uint8Array(chunk);
    this.inFlight += data.length;
    this.signal({ kind: 'chunk', data });
    if (this.inFlight < CREDIT_WINDOW) callback();
    else this.blockedWrite = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.signal({ kind: 'end' });
    callback();
  }

  override _read(): void {
    if (this.owed > 0) this.acknowledge();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.closedByOther) this.signal({ kind: 'close' });
    this.blockedWrite = undefined;
    callback(error);
  }

  private acknowledge(): void {
    this.signal({ kind: 'credit', bytes: this.owed });
    this.owed = 0;
  }
}
