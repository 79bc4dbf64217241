/**
 * Terminates TLS for every stream listener of a server, with one certificate that can be
 * swapped on reload. A connection natively accepted (native-tcp-accept.ts) is run by
 * native/tls-stream.c where it is built and the context allows (docs/native-tls.md); any other,
 * and every one with TURNPIKE_TLS=node or client certificates (CA-file), by Node's tls.Server.
 */
import type { Socket } from 'node:net';
import { Server as TlsServer, type TLSSocket, type TlsOptions as NodeTlsOptions } from 'node:tls';
import type { Logger } from '../log/logger-interface.js';
import { chooseAlpn } from './tls-context.js';
import { nativeTls, type NativeTls, type NativeTlsContext, type NativeTlsSocket } from './native-tls.js';
import type { StreamReads, StreamSocket } from './stream-reads.js';
import type { ChannelDataWriter } from './native-frame-writer.js';

/** Unfinished TLS handshakes beyond this are refused: silent clients cannot hold sockets. */
const MAX_PENDING_HANDSHAKES = 256;
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** A finished handshake: the connection, how its bytes arrive (Node's: its 'data' events) and how relayed data is written. */
export type OnSecure = (socket: StreamSocket, reads?: StreamReads, frames?: ChannelDataWriter) => void;

export class TlsTerminator {
  private readonly server: TlsServer;
  private pending = 0;
  private readonly native: NativeTls | undefined;
  /** Why the addon does not run TLS connections, when it does not. */
  private readonly nativeUnavailable: string | undefined;
  /** The addon's SSL_CTX; undefined: every connection goes to Node. */
  private nativeContext: NativeTlsContext | undefined;

  constructor(
    options: NodeTlsOptions,
    private readonly onSecure: OnSecure,
    private readonly logger: Logger,
  ) {
    this.server = new TlsServer({ ...options, handshakeTimeout: HANDSHAKE_TIMEOUT_MS, ALPNCallback: chooseAlpn });
    // Every handshake ends in exactly one of these two events (a timeout is a client error).
    this.server.on('secureConnection', (socket: TLSSocket) => {
      this.pending--;
      this.onSecure(socket);
    });
    this.server.on('tlsClientError', (error, socket) => {
      this.pending--;
      this.logger.debug(`TLS handshake with ${socket.remoteAddress} failed: ${error.message}`);
    });
    const native = nativeTls();
    this.native = 'tls' in native ? native.tls : undefined;
    this.nativeUnavailable = 'tls' in native ? undefined : native.unavailable;
    this.nativeContext = this.native?.context(options);
  }

  /** Who runs TLS connections that were natively accepted. */
  get runs(): 'native' | 'node' {
    return this.nativeContext ? 'native' : 'node';
  }

  describe(): string {
    if (this.nativeContext) return 'TLS connections: run in C with the node binary\'s OpenSSL (native/tls-stream.c)';
    const why = this.nativeUnavailable ?? 'CA-file: client certificates are verified by Node';
    return `TLS connections: Node's tls.TLSSocket (${why})`;
  }

  /** Hands a raw connection whose first bytes were put back to the TLS server. */
  accept(socket: Socket): void {
    if (!this.admit(socket)) return;
    this.server.emit('connection', socket);
  }

  /**
   * The addon takes over a natively accepted connection, `first` its bytes read so far; false
   * when it does not run this server's TLS (the caller hands the socket to accept()).
   */
  adopt(socket: Socket, fd: number, first: Buffer, track: (socket: NativeTlsSocket) => void): boolean {
    const context = this.nativeContext;
    if (!this.native || !context) return false;
    if (!this.admit(socket)) return true;
    const endpoints = { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, localAddress: socket.localAddress, localPort: socket.localPort };
    let adopted: NativeTlsSocket;
    try {
      adopted = this.native.adopt(fd, context, first, endpoints, {
        secure: (tls) => {
          clearTimeout(timer);
          this.pending--;
          this.onSecure(tls, tls.reads, tls);
        },
        failed: (tls, reason) => {
          clearTimeout(timer);
          this.pending--;
          this.logger.debug(`TLS handshake with ${tls.remoteAddress} failed: ${reason}`);
        },
      });
    } catch (error) {
      this.pending--;
      this.logger.warn(`TLS: cannot take over the connection from ${socket.remoteAddress}: ${(error as Error).message}`);
      socket.destroy();
      return true;
    }
    // The addon reads a copy of the descriptor: this one, and the net.Socket, go.
    socket.destroy();
    const timer = setTimeout(() => adopted.destroy(new Error('TLS handshake timeout')), HANDSHAKE_TIMEOUT_MS);
    timer.unref();
    track(adopted);
    return true;
  }

  get pendingHandshakes(): number {
    return this.pending;
  }

  /** New certificate (and settings): checked by both Node and the addon before either takes it. */
  setSecureContext(options: NodeTlsOptions): void {
    const context = this.native?.context(options);
    this.server.setSecureContext(options);
    this.nativeContext = context;
  }

  /** A handshake may start: false (and the socket closed) when too many are unfinished. */
  private admit(socket: Socket): boolean {
    if (this.pending >= MAX_PENDING_HANDSHAKES) {
      this.logger.warn(`TLS: ${MAX_PENDING_HANDSHAKES} handshakes unfinished; refusing ${socket.remoteAddress}`);
      socket.destroy();
      return false;
    }
    this.pending++;
    return true;
  }
}
