/**
 * TCP listening with native/tcp-accept.c (docs/native-tcp-accept.md): the addon accepts, and each
 * connection becomes a `net.Socket` made here from its fd with the documented `onread` option, so
 * every read lands in one buffer this thread reuses instead of a fresh 64 KiB one pushed through
 * the Readable stream; relayed data to a plain TCP client is written by the addon too
 * (native-frame-writer.ts). Loaded once per thread (each relay worker has its own). Where the addon is
 * not there, or TURNPIKE_TCP_ACCEPT=net forces it off, listeners use net.Server as before.
 */
import { Socket } from 'node:net';
import { formatTransportAddress } from '../stun/ip.js';
import { loadAddon, type Unavailable } from './native-addon.js';
import { OnreadReads } from './stream-reads.js';
import { NativeFrameWriter, type WriteChannelData } from './native-frame-writer.js';
import { nativePlainTcp } from './native-stream.js';

interface TcpAcceptAddon {
  start(onConnection: (listenerId: number, fd: number) => void): void;
  listen(family: number, ip: string, port: number, reusePort: boolean): [number, number];
  close(listenerId: number): void;
  closeFd(fd: number): void;
  /** Missing from an addon built before it: relayed data then goes through socket.write. */
  writeChannelData?: WriteChannelData;
}

/**
 * What a native listener hands over: the socket, where its bytes are to go, and how relayed
 * data is written to it while it carries plain TCP (undefined: with socket.write).
 */
export type OnNativeConnection = (socket: Socket, reads: OnreadReads, frames: NativeFrameWriter | undefined, fd: number) => void;

/** Every read of every client socket of this thread lands here: a session frames it in place, anyone else gets a copy (stream-reads.ts). */
const READ_BUFFER_BYTES = 64 * 1024;

export class NativeTcpAccept {
  private readonly handlers = new Map<number, OnNativeConnection>();
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

  constructor(private readonly addon: TcpAcceptAddon) {
    addon.start((id, fd) => this.onConnection(id, fd));
  }

  /** Listens on ip:port (IPv6 only for an IPv6 address); throws as net does (error.code). */
  listen(family: 4 | 6, ip: string, port: number, reusePort: boolean, onConnection: OnNativeConnection): { readonly port: number; close(): void } {
    let id: number, bound: number;
    try {
      [id, bound] = this.addon.listen(family, ip, port, reusePort);
    } catch (error) {
      // As net words it: "listen EADDRINUSE ... 127.0.0.1:3478", with the same code.
      if (error instanceof Error) error.message += ` ${formatTransportAddress({ address: ip, port })}`;
      throw error;
    }
    this.handlers.set(id, onConnection);
    return {
      port: bound,
      close: () => {
        this.handlers.delete(id);
        this.addon.close(id);
      },
    };
  }

  private onConnection(id: number, fd: number): void {
    const handler = this.handlers.get(id);
    let socket: Socket;
    const reads = new OnreadReads();
    try {
      if (!handler) throw new Error('listener closed');
      socket = new Socket({
        fd,
        readable: true,
        writable: true,
        onread: { buffer: this.readBuffer, callback: (length: number, buffer: Uint8Array) => reads.deliver(buffer as Buffer, length) },
      });
    } catch {
      this.addon.closeFd(fd); // not a socket Node takes (or no listener any more): nobody else will close it
      return;
    }
    reads.attach(socket);
    const write = this.addon.writeChannelData;
    handler(socket, reads, write && !directWritesOff() ? new NativeFrameWriter(write, fd, socket) : undefined, fd);
  }
}

/** TURNPIKE_TCP_WRITE=node: relayed data through socket.write only (to compare, or to rule the addon's write out). */
const directWritesOff = (): boolean => process.env.TURNPIKE_TCP_WRITE === 'node';

type NativeTcpState = { readonly accept: NativeTcpAccept } | Unavailable;

let state: NativeTcpState | undefined;

/** This thread's native accept, or why there is none. */
export function nativeTcpAccept(): NativeTcpState {
  return (state ??= load());
}

function load(): NativeTcpState {
  if (process.env.TURNPIKE_TCP_ACCEPT === 'net') return { unavailable: 'TURNPIKE_TCP_ACCEPT=net' };
  return loadAddon('tcp-accept', (addon: TcpAcceptAddon) => ({ accept: new NativeTcpAccept(addon) }));
}

/** Which accept TCP ports use, said once at start (as logUdpIo does for UDP). */
export function describeTcpAccept(): { readonly level: 'info' | 'warn'; readonly text: string } {
  const native = nativeTcpAccept();
  if (!('accept' in native)) return { level: 'warn', text: `native TCP accept unavailable: ${native.unavailable}; using net.Server` };
  const plain = nativePlainTcp();
  const connections = 'streams' in plain
    ? 'plain TCP connections run in C (native/stream-conn.c)'
    : `plain TCP connections: net.Socket reading into one reused buffer (${plain.unavailable})`;
  return { level: 'info', text: `TCP client I/O: native accept; ${connections} (TLS taken over on the same socket; net.Server on tcp-proxy-port)` };
}
