/**
 * Cuts STUN messages and ChannelData out of a byte stream (TCP, TLS): RFC 8656 §12.5 pads
 * ChannelData to a multiple of 4 over streams. A frame that lies within one chunk is handed
 * over as a view, without copying; only frames split across chunks are joined.
 */
import { HEADER_LENGTH } from './constants.js';

export class FramingError extends Error {
  override readonly name = 'FramingError';
}

export interface FramerLimits {
  /** Largest frame accepted; a header announcing more closes the connection. */
  readonly maxFrameLength: number;
  /** Most bytes held while waiting for the rest of a frame. */
  readonly maxBuffered: number;
}

export const DEFAULT_FRAMER_LIMITS: FramerLimits = { maxFrameLength: 16 * 1024, maxBuffered: 64 * 1024 };

/** Length of the frame starting at `offset` (padding excluded), or throws on garbage. */
function frameLength(bytes: Buffer, offset: number, limits: FramerLimits): number {
  const first = bytes[offset]!;
  const length = bytes.readUInt16BE(offset + 2);
  let frame: number;
  if (first < 0x40) {
    if (length % 4 !== 0) throw new FramingError('STUN length is not a multiple of 4');
    frame = HEADER_LENGTH + length;
  } else if (first < 0x80) {
    frame = 4 + length;
  } else {
    throw new FramingError(`first byte 0x${first.toString(16)} is neither STUN nor ChannelData`);
  }
  if (frame > limits.maxFrameLength) throw new FramingError(`frame of ${frame} bytes is over the limit of ${limits.maxFrameLength}`);
  return frame;
}

/** Bytes a frame of `length` takes on the stream: ChannelData is padded to 4, STUN already is. */
const spanOf = (length: number): number => (length + 3) & ~3;

export class StreamFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly limits: FramerLimits = DEFAULT_FRAMER_LIMITS) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Adds bytes and hands every complete frame to `onFrame`; throws FramingError on garbage.
   * When `onFrame` returns false, what follows that frame stays buffered, unframed, until the
   * next push (an empty one will do) or takeBuffered. `transient`: `data` is a view of a buffer
   * the next read overwrites, so what is held is copied (a frame handed over is then valid only
   * while `onFrame` runs).
   */
  push(data: Buffer, onFrame: (frame: Buffer) => unknown, transient = false): void {
    if (this.buffered === 0) {
      this.pushAlone(data, onFrame, transient);
      return;
    }
    if (data.length > 0) {
      this.chunks.push(transient ? Buffer.from(data) : data);
      this.buffered += data.length;
    }
    for (;;) {
      if (this.buffered < 4) break;
      if (this.chunks[0]!.length < 4) this.merge(4);
      const length = frameLength(this.chunks[0]!, 0, this.limits);
      const span = spanOf(length);
      if (this.buffered < span) {
        this.checkHeld();
        break;
      }
      if (this.chunks[0]!.length < span) this.merge(span);
      const head = this.chunks[0]!;
      const frame = head.subarray(0, length);
      if (head.length === span) this.chunks.shift();
      else this.chunks[0] = head.subarray(span);
      this.buffered -= span;
      if (onFrame(frame) === false) break;
    }
  }

  /**
   * Nothing held from earlier chunks, which is how most chunks arrive: frames are cut out of
   * `data` where they lie, and a chunk that is exactly one frame is handed over as it is.
   */
  private pushAlone(data: Buffer, onFrame: (frame: Buffer) => unknown, transient: boolean): void {
    let offset = 0;
    let holding = false;
    while (!holding && data.length - offset >= 4) {
      const length = frameLength(data, offset, this.limits);
      const span = spanOf(length);
      if (data.length - offset < span) break;
      const frame = length === data.length ? data : data.subarray(offset, offset + length);
      offset += span;
      holding = onFrame(frame) === false;
    }
    if (offset === data.length) return;
    const rest = offset === 0 ? data : data.subarray(offset);
    this.chunks.push(transient ? Buffer.from(rest) : rest);
    this.buffered = data.length - offset;
    if (!holding) this.checkHeld();
  }

  /** A frame that is still incomplete may not hold more than maxBuffered. */
  private checkHeld(): void {
    if (this.buffered > this.limits.maxBuffered) throw new FramingError('too many bytes buffered');
  }

  /** The bytes held and not framed yet, taken out (the framer is empty after). */
  takeBuffered(): Buffer {
    const held = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    return held;
  }

  /** Joins leading chunks until the first holds at least `bytes`. */
  private merge(bytes: number): void {
    let count = 0;
    let have = 0;
    while (have < bytes) have += this.chunks[count++]!.length;
    this.chunks.splice(0, count, Buffer.concat(this.chunks.slice(0, count), have));
  }
}
