/**
 * TLS connections run by native/tls-stream.c with the node binary's OpenSSL (docs/native-tls.md):
 * a natively accepted connection whose first byte opens a TLS handshake is adopted by the addon,
 * which handshakes, reads into one buffer this thread reuses and writes each message as a
 * record of its own. JS sees a `NativeTlsSocket`, which has what a StreamSession uses of a
 * socket. Loaded once per thread. Where the addon is not there, or TURNPIKE_TLS=node, TLS
 * connections are tls.TLSSocket as before (stream-listener.ts's TlsTerminator chooses).
 */
import { EventEmitter } from 'node:events';
import type { TlsOptions as NodeTlsOptions } from 'node:tls';
import { DEFAULT_CIPHERS } from 'node:tls';
import { loadAddon, type Unavailable } from './native-addon.js';
import { OnreadReads } from './stream-reads.js';
import type { ChannelDataWriter } from './native-frame-writer.js';

/** An SSL_CTX the addon made: freed when JS lets go of it (connections keep their own reference). */
export type NativeTlsContext = object & { readonly __nativeTlsContext?: never };

interface TlsStreamAddon {
  start(onEvent: (id: number, event: number, value: number, text: string | undefined) => void, readBuffer: Buffer): void;
  context(cert: Buffer, key: Buffer, passphrase: string, minVersion: 12 | 13, cipherList: string, cipherSuites: string, groups: string, dh: Buffer | null): NativeTlsContext;
  adopt(fd: number, context: NativeTlsContext, early: Buffer): number;
  write(id: number, data: Buffer): number;
  writeChannelData(id: number, channel: number, data: Buffer, offset: number, length: number): number;
  pause(id: number): void;
  resume(id: number): void;
  pump(id: number): void;
  end(id: number): void;
  destroy(id: number): void;
  live(): number;
}

const enum TlsEvent {
  Data = 0,
  Secure = 1,
  Drain = 2,
  End = 3,
  Close = 4,
}

/** Every TLS read of this thread lands here (as native-tcp-accept.ts's buffer for TCP). */
const READ_BUFFER_BYTES = 64 * 1024;
/** A writer (RFC 6062's pipe) waits for 'drain' beyond this many bytes queued in the addon. */
const WRITE_HIGH_WATER = 64 * 1024;

export interface SecureHandlers {
  /** The handshake is done: the connection is the session's from here. */
  secure(socket: NativeTlsSocket): void;
  /** It failed, or the connection closed first. */
  failed(socket: NativeTlsSocket, reason: string): void;
}

/** Where a connection came from, as the net.Socket JS made first knew it. */
export interface Endpoints {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
}

/**
 * One adopted TLS connection. Events as a socket's: 'data' is not emitted (`reads` gets the
 * bytes), 'end' when the client closes, 'error' before a 'close' C initiated for a failure,
 * 'drain' when what was queued has gone.
 */
export class NativeTlsSocket extends EventEmitter implements ChannelDataWriter {
  readonly reads = new OnreadReads();
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  alpnProtocol: string | false = false;
  secure = false;
  destroyed = false;
  private ended = false;
  private queued = 0;
  private waiting: Array<(error?: Error | null) => void> = [];

  constructor(
    /** @internal */ readonly owner: NativeTls,
    readonly id: number,
    endpoints: Endpoints,
    readonly handlers: SecureHandlers,
  ) {
    super();
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

  /** One TLS record; `done` once it is written or queued below the high-water mark. */
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

  /** close_notify and FIN once everything queued is written. */
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

  /** Reads again; what OpenSSL already decrypted is not in the socket, so it is read from the next round. */
  resume(): this {
    if (this.destroyed) return this;
    this.owner.addon.resume(this.id);
    setImmediate(() => {
      if (!this.destroyed) this.owner.addon.pump(this.id);
    });
    return this;
  }

  /** TCP_NODELAY is set when the addon adopts the connection. */
  setNoDelay(): this {
    return this;
  }

  /** @internal the addon's events */
  onEvent(event: TlsEvent, value: number, text: string | undefined, readBuffer: Buffer): void {
    switch (event) {
      case TlsEvent.Data:
        if (!this.reads.deliver(readBuffer, value)) this.pause();
        return;
      case TlsEvent.Secure:
        this.secure = true;
        this.alpnProtocol = text || false;
        this.handlers.secure(this);
        return;
      case TlsEvent.Drain: {
        this.queued = 0;
        this.owner.stats.drained++;
        const waiting = this.waiting;
        this.waiting = [];
        for (const done of waiting) done();
        this.emit('drain');
        return;
      }
      case TlsEvent.End:
        this.emit('end');
        return;
      case TlsEvent.Close:
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
    if (!this.secure) {
      this.handlers.failed(this, error?.message ?? 'connection closed');
      process.nextTick(() => this.emit('close', error !== undefined));
      return;
    }
    process.nextTick(() => {
      if (error) this.emit('error', error);
      this.emit('close', error !== undefined);
    });
  }
}

/** This thread's addon: its contexts and connections. */
export class NativeTls {
  /** Connections adopted, and times a queue of records formed and was drained (tests read them: the C path is the one in use). */
  readonly stats = { adopted: 0, queued: 0, drained: 0 };
  private readonly connections = new Map<number, NativeTlsSocket>();
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

  constructor(readonly addon: TlsStreamAddon) {
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

  /** Takes over `fd` (the caller closes its own copy) with `early`, the bytes already read from it, read first. */
  adopt(fd: number, context: NativeTlsContext, early: Buffer, endpoints: Endpoints, handlers: SecureHandlers): NativeTlsSocket {
    const id = this.addon.adopt(fd, context, early);
    const socket = new NativeTlsSocket(this, id, endpoints, handlers);
    this.connections.set(id, socket);
    this.stats.adopted++;
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

type NativeTlsState = { readonly tls: NativeTls } | Unavailable;

let state: NativeTlsState | undefined;

/** This thread's native TLS, or why there is none. */
export function nativeTls(): NativeTlsState {
  return (state ??= load());
}

function load(): NativeTlsState {
  if (process.env.TURNPIKE_TLS === 'node') return { unavailable: 'TURNPIKE_TLS=node' };
  return loadAddon('tls-stream', (addon: TlsStreamAddon) => ({ tls: new NativeTls(addon) }));
}
