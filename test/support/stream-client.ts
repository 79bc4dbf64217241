// A STUN/TURN client over one TCP or TLS connection, for integration tests: it frames what
// arrives and signs requests as a user once it has learnt the realm and nonce.
import net from 'node:net';
import tls from 'node:tls';
import {
  MessageBuilder,
  Method,
  StunClass,
  decodeMessage,
  type StunMessage,
  type TransportAddress,
} from '../../src/stun/index.js';
import { Arrival } from './arrival.js';
import { LongTermSession, type Credentials } from './long-term-session.js';

export class StreamTestClient {
  private readonly frames: Buffer[] = [];
  private readonly arrival = new Arrival();
  private readonly auth: LongTermSession;

  private pending = Buffer.alloc(0);
  /** After a successful ConnectionBind the connection carries raw peer bytes (RFC 6062). */
  private rawMode = false;
  private raw = Buffer.alloc(0);

  private constructor(
    readonly socket: net.Socket,
    credentials: Credentials | undefined,
  ) {
    this.auth = new LongTermSession(credentials);
    socket.on('data', (d: Buffer) => {
      if (this.rawMode) this.raw = Buffer.concat([this.raw, d]);
      else this.cut(d);
      this.arrival.notify();
    });
  }

  /** Frames until a ConnectionBind succeeds; the bytes after it are raw data. */
  private cut(data: Buffer): void {
    this.pending = Buffer.concat([this.pending, data]);
    while (this.pending.length >= 4) {
      const isStun = this.pending[0]! < 0x40;
      const length = this.pending.readUInt16BE(2);
      const span = isStun ? 20 + length : (4 + length + 3) & ~3;
      if (this.pending.length < span) return;
      const frame = this.pending.subarray(0, isStun ? span : 4 + length);
      this.pending = this.pending.subarray(span);
      this.frames.push(Buffer.from(frame));
      if (isStun) {
        const m = decodeMessage(frame);
        if (m.method === Method.ConnectionBind && m.cls === StunClass.SuccessResponse) {
          this.rawMode = true;
          this.raw = Buffer.from(this.pending);
          return;
        }
      }
    }
  }

  /** Raw bytes received after ConnectionBind, once at least `bytes` are there. */
  async readRaw(bytes: number, timeoutMs = 2000): Promise<Buffer> {
    await this.arrival.until(() => this.raw.length >= bytes, timeoutMs, `fewer than ${bytes} raw bytes arrived`);
    const out = this.raw.subarray(0, bytes);
    this.raw = this.raw.subarray(bytes);
    return out;
  }

  static async open(
    server: TransportAddress,
    options: { secure?: boolean; credentials?: Credentials; maxTlsVersion?: tls.SecureVersion } = {},
  ): Promise<StreamTestClient> {
    const socket = options.secure
      ? tls.connect({ host: server.address, port: server.port, rejectUnauthorized: false, ALPNProtocols: ['stun.turn'], maxVersion: options.maxTlsVersion })
      : net.connect({ host: server.address, port: server.port });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.secure ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new StreamTestClient(socket, options.credentials);
  }

  /** The next frame: a decoded STUN message, or the raw bytes of ChannelData. */
  async next(timeoutMs = 2000): Promise<StunMessage | Buffer> {
    await this.arrival.until(() => this.frames.length > 0, timeoutMs, 'no frame arrived');
    const f = this.frames.shift()!;
    return f[0]! < 0x40 ? decodeMessage(f) : f;
  }

  async nextMessage(timeoutMs = 2000): Promise<StunMessage> {
    const frame = await this.next(timeoutMs);
    if (Buffer.isBuffer(frame)) throw new Error('expected a STUN message, got ChannelData');
    return frame;
  }

  /** A request signed with what the last challenge taught (call request() once first). */
  signed(method: number, add: (b: MessageBuilder) => void = () => {}): Buffer {
    if (this.auth.nonce === undefined) throw new Error('no challenge answered yet');
    const builder = new MessageBuilder(method, StunClass.Request);
    add(builder);
    return this.auth.seal(builder, false);
  }

  /** An authenticated request, answering a 401/438 challenge first as a client does. */
  request(method: number, add: (b: MessageBuilder) => void = () => {}, timeoutMs = 2000): Promise<StunMessage> {
    return this.auth.request(method, add, (_builder, sealed) => {
      this.socket.write(sealed);
      return this.nextMessage(timeoutMs);
    }, false);
  }

  /** Resolves when the server (or anyone) has closed this connection. */
  closed(): Promise<void> {
    return new Promise((r) => (this.socket.destroyed ? r() : this.socket.once('close', () => r())));
  }

  close(): void {
    this.socket.destroy();
  }
}
