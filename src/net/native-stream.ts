/**
 * Client connections run in C by the stream addon (native/stream-conn.c, and native/tls-stream.c
 * for TLS with the node binary's OpenSSL; docs/native-tls.md, docs/native-tcp-accept.md): a
 * natively accepted connection is adopted by the addon, which (for TLS, handshakes,) reads into
 * one buffer this thread reuses and writes each message with one write (one TLS record). JS sees
 * a `NativeStreamSocket`, which has what a StreamSession uses of a socket. Loaded once per
 * thread. Where the addon is not there, TLS connections are tls.TLSSocket and plain ones
 * net.Socket as before; TURNPIKE_TLS=node and TURNPIKE_TCP=node each choose Node's for theirs
 * (native-tls.ts, stream-listener.ts).
 */
import { EventEmitter } from 'node:events';
import type { TlsOptions as NodeTlsOptions } from 'node:tls';
import { DEFAULT_CIPHERS } from 'node:tls';
import { loadAddon, type Unavailable } from './native-addon.js';
import { OnreadReads } from './stream-reads.js';
import type { ChannelDataWriter } from './native-frame-writer.js';

/** An SSL_CTX the addon made: freed when JS lets go of it (connections keep their own reference). */
export type NativeTlsContext = object & { readonly __nativeTlsContext?: never };

interface StreamAddon {
  start(onEvent: (id: number, event: number, value: number, text: string | undefined) => void, readBuffer: Buffer): void;
  context(cert: Buffer, key: Buffer, passphrase: string, minVersion: 12 | 13, cipherList: string, cipherSuites: string, groups: string, dh: Buffer | null): NativeTlsContext;
  adopt(fd: number, context: NativeTlsContext, early: Buffer): number;
  adoptPlain(fd: number, early: Buffer): number;
  write(id: number, data: Buffer): number;
  writeChannelData(id: number, channel: number, data: Buffer, offset: number, length: number): number;
  pause(id: number): void;
  /** True when bytes taken from the socket already wait (OpenSSL's): pump() reads them. */
  resume(id: number): boolean;
  pump(id: number): void;
  end(id: number): void;
  destroy(id: number): void;
  live(): number;
}

const enum StreamEvent {
  Data = 0,
  Secure = 1,
  Drain = 2,
  End = 3,
  Close = 4,
}

/** Every read of this thread's adopted connections lands here (as native-tcp-accept.ts's buffer for its sockets). */
const READ_BUFFER_BYTES = 64 * 1024;
/** A writer (RFC 6062's pipe) waits for 'drain' beyond this many bytes queued in the addon. */
const WRITE_HIGH_WATER = 64 * 1024;

export interface SecureHandlers {
  /** The handshake is done: the connection is the session's from here. */
  secure(socket: NativeStreamSocket): void;
  /** It failed, or the connection closed first. */
  failed(socket: NativeStreamSocket, reason: string): void;
}

/** Where a connection came from, as the net.Socket JS made first knew it. */
export interface Endpoints {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
}

/**
 * One adopted connection, TLS or plain TCP. Events as a socket's: 'data' is not emitted (`reads`
 * gets the bytes), 'end' when the client closes, 'error' before a 'close' C initiated for a
 * failure, 'drain' when what was queued has gone.
 */
export class NativeStreamSocket extends EventEmitter implements ChannelDataWriter {
  readonly reads = new OnreadReads();
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  alpnProtocol: string | false = false;
  /** TLS: the handshake is done. */
  secure = false;
  destroyed = false;
  /** Plain TCP from the start; TLS once secure. */
  private open: boolean;
  private ended = false;
  private queued = 0;
  private waiting: Array<(error?: Error | null) => void> = [];

  constructor(
    /** @internal */ readonly owner: NativeStreams,
    readonly id: number,
    endpoints: Endpoints,
    /** TLS's; none for plain TCP, which is open at once. */
    readonly handlers: SecureHandlers | undefined,
  ) {
    super();
    this.open = handlers === undefined;
    this.remoteAddress = endpoints.remoteAddress;
    this.remotePort = endpoints.remotePort;
    this.localAddress = endpoints.localAddress;
    this.localPort = endpoints.localPort;
    this.reads.attach(this);
  }

  get writable(): boolean {
    return !this.destroyed && !this.ended;
  }

  /** Bytes the addon holds that the kernel has not taken yet (an upper bound until 'drain'). */
  get writableLength(): number {
    return this.queued;
  }

  /** One write (one TLS record); `done` once it is written or queued below the high-water mark. */
  write(data: Buffer, done?: (error?: Error | null) => void): boolean {
    if (!this.writable) {
      if (done) process.nextTick(done, new Error('write after end'));
      return false;
    }
    return this.wrote(this.owner.addon.write(this.id, data), done);
  }

  writeChannelData(channel: number, data: Buffer, offset: number, length: number): void {
    if (this.writable) this.wrote(this.owner.addon.writeChannelData(this.id, channel, data, offset, length));
  }

  private wrote(queued: number, done?: (error?: Error | null) => void): boolean {
    if (queued < 0) {
      if (done) process.nextTick(done, new Error('connection closed'));
      return false; // the addon closed it: 'close' follows
    }
    if (queued > 0 && this.queued === 0) this.owner.stats.queued++;
    this.queued = queued;
    if (!done) return queued <= WRITE_HIGH_WATER;
    if (queued <= WRITE_HIGH_WATER) process.nextTick(done);
    else this.waiting.push(done);
    return queued <= WRITE_HIGH_WATER;
  }

  /** FIN (after TLS's close_notify) once everything queued is written. */
  end(): this {
    if (!this.destroyed && !this.ended) {
      this.ended = true;
      this.owner.addon.end(this.id);
    }
    return this;
  }

  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.owner.addon.destroy(this.id);
    this.closed(error);
    return this;
  }

  pause(): this {
    if (!this.destroyed) this.owner.addon.pause(this.id);
    return this;
  }

  /**
   * Reads again. What OpenSSL already took from the socket does not make it readable, so that is
   * read from the next round; only then (RFC 6062's pipe resumes on every read of its Duplex).
   */
  resume(): this {
    if (this.destroyed) return this;
    if (this.owner.addon.resume(this.id)) {
      setImmediate(() => {
        if (!this.destroyed) this.owner.addon.pump(this.id);
      });
    }
    return this;
  }

  /** TCP_NODELAY is set when the addon adopts the connection. */
  setNoDelay(): this {
    return this;
  }

  /** @internal the addon's events */
  onEvent(event: StreamEvent, value: number, text: string | undefined, readBuffer: Buffer): void {
    switch (event) {
      case StreamEvent.Data:
        if (!this.reads.deliver(readBuffer, value)) this.pause();
        return;
      case StreamEvent.Secure:
        this.secure = this.open = true;
        this.alpnProtocol = text || false;
        this.handlers?.secure(this);
        return;
      case StreamEvent.Drain: {
        this.queued = 0;
        this.owner.stats.drained++;
        const waiting = this.waiting;
        this.waiting = [];
        for (const done of waiting) done();
        this.emit('drain');
        return;
      }
      case StreamEvent.End:
        this.emit('end');
        return;
      case StreamEvent.Close:
        this.closed(text === undefined ? undefined : new Error(text));
        return;
    }
  }

  private closed(error: Error | undefined): void {
    this.destroyed = true;
    this.owner.forget(this.id);
    const waiting = this.waiting;
    this.waiting = [];
    for (const done of waiting) process.nextTick(done, error ?? new Error('connection closed'));
    if (!this.open) {
      this.handlers?.failed(this, error?.message ?? 'connection closed');
      process.nextTick(() => this.emit('close', error !== undefined));
      return;
    }
    process.nextTick(() => {
      if (error) this.emit('error', error);
      this.emit('close', error !== undefined);
    });
  }
}

/** This thread's addon: its TLS contexts and connections. */
export class NativeStreams {
  /**
   * TLS and plain TCP connections adopted, and times a write queue formed and was drained (tests
   * read them: the C path is the one in use).
   */
  readonly stats = { adopted: 0, adoptedPlain: 0, queued: 0, drained: 0 };
  private readonly connections = new Map<number, NativeStreamSocket>();
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

  constructor(readonly addon: StreamAddon) {
    addon.start((id, event, value, text) => this.connections.get(id)?.onEvent(event, value, text, this.readBuffer), this.readBuffer);
  }

  /**
   * An SSL_CTX from the options tls-context.ts made (the files' bytes as read), or undefined
   * where the addon does not do what they ask: client certificates (CA-file) stay with Node.
   * Throws with OpenSSL's reason.
   */
  context(options: NodeTlsOptions): NativeTlsContext | undefined {
    if (options.ca !== undefined || options.requestCert) return undefined;
    const { cipherList, cipherSuites } = splitCiphers(options.ciphers ?? DEFAULT_CIPHERS);
    const curve = options.ecdhCurve && options.ecdhCurve !== 'auto' ? options.ecdhCurve : '';
    return this.addon.context(
      asBuffer(options.cert),
      asBuffer(options.key),
      options.passphrase ?? '',
      options.minVersion === 'TLSv1.3' ? 13 : 12,
      cipherList,
      cipherSuites,
      curve,
      options.dhparam === undefined ? null : asBuffer(options.dhparam),
    );
  }

  /** Takes over TLS on `fd` (the caller closes its own copy) with `early`, the bytes already read from it, read first. */
  adopt(fd: number, context: NativeTlsContext, early: Buffer, endpoints: Endpoints, handlers: SecureHandlers): NativeStreamSocket {
    const socket = this.track(new NativeStreamSocket(this, this.addon.adopt(fd, context, early), endpoints, handlers));
    this.stats.adopted++;
    return socket;
  }

  /** Takes over plain TCP on `fd`, as adopt() does TLS: open at once. */
  adoptPlain(fd: number, early: Buffer, endpoints: Endpoints): NativeStreamSocket {
    const socket = this.track(new NativeStreamSocket(this, this.addon.adoptPlain(fd, early), endpoints, undefined));
    this.stats.adoptedPlain++;
    return socket;
  }

  private track(socket: NativeStreamSocket): NativeStreamSocket {
    this.connections.set(socket.id, socket);
    return socket;
  }

  /** Connections the addon has not freed yet (SSL, queue, descriptor): what tests check for leaks. */
  liveConnections(): number {
    return this.addon.live();
  }

  /** @internal */
  forget(id: number): void {
    this.connections.delete(id);
  }
}

/** As Node splits its `ciphers` option: TLS 1.3 suites (TLS_*) apart from the TLS 1.2 list. */
function splitCiphers(ciphers: string): { cipherList: string; cipherSuites: string } {
  const names = ciphers.split(':').filter((name) => name.length > 0);
  return {
    cipherList: names.filter((name) => !name.startsWith('TLS_')).join(':'),
    cipherSuites: names.filter((name) => name.startsWith('TLS_')).join(':'),
  };
}

function asBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value);
  throw new TypeError('native TLS: cert, key and dhparam as one PEM each');
}

type NativeStreamsState = { readonly streams: NativeStreams } | Unavailable;

let state: NativeStreamsState | undefined;

/** This thread's stream addon, or why there is none. */
export function nativeStreams(): NativeStreamsState {
  return (state ??= loadAddon('tls-stream', (addon: StreamAddon) => ({ streams: new NativeStreams(addon) })));
}

/** Plain TCP connections run in C, or why not (TURNPIKE_TCP=node: net.Socket as before). */
export function nativePlainTcp(): NativeStreamsState {
  if (process.env.TURNPIKE_TCP === 'node') return { unavailable: 'TURNPIKE_TCP=node' };
  return nativeStreams();
}
