/**
 * A UDP listener's own unconnected socket: the one every datagram without a socket of its own
 * reaches (STUN before an allocation, the first Allocate's 401, DTLS handshakes). Native batched
 * I/O where this thread has it (native-udp/listener-socket.ts), else dgram; udp-listener.ts
 * handles both through this one small interface, so the data plane stays one.
 */
import type { RemoteInfo } from 'node:dgram';
import type { IpFamily } from '../stun/ip.js';
import type { BindingAnswerer } from '../turn/binding.js';
import { nativeUdpIo } from './native-udp/addon.js';
import { NativeListenerSocket } from './native-udp/listener-socket.js';
import { afterUdpProbe, bindFirstUdpOfGroup, bindUdpSocket, type GroupRole } from './reuse-port.js';
import type { Datagram } from './udp-session-socket.js';
import { createUdpSocket } from './udp-socket.js';

/** Where SO_REUSEPORT lets a connected socket take one client's datagrams from the listener. */
export const PER_SESSION_SOCKETS = process.platform === 'linux';

/** Sends from a listening addr:port: what DTLS and RFC 5780's CHANGE-REQUEST answers need of it. */
export interface DatagramSender {
  send(data: Datagram, port: number, address: string): void;
}

export interface ListenerSocket extends DatagramSender {
  /** Which I/O serves it. */
  readonly io: 'native' | 'dgram';
  /** The port it is bound to. */
  readonly port: number;
  /** Native: it can answer plain Binding requests below JS, as the engine tells it (binding.ts). */
  readonly bindingAnswerer?: BindingAnswerer;
  close(): Promise<void>;
}

export interface ListenerSocketOptions {
  readonly family: IpFamily;
  readonly address: string;
  /** 0: a free port. */
  readonly port: number;
  /** In the addr:port's reuse group (reuse-port.ts): the first binds after a probe, members join. */
  readonly role: GroupRole;
  /** Every datagram, in a Buffer of its own. */
  readonly onDatagram: (data: Buffer, rinfo: RemoteInfo) => void;
  /** Errors of the open socket. */
  readonly onError: (error: Error) => void;
}

/** Binds the listener's socket; PortInUseError when another socket holds the port. */
export function openListenerSocket(options: ListenerSocketOptions): Promise<ListenerSocket> {
  const io = nativeUdpIo();
  if (!io) return DgramListenerSocket.open(options);
  // Native I/O exists on Linux only, where every listener heads a group (its per-session sockets).
  if (options.role === 'member') return Promise.resolve(new NativeListenerSocket(io, options, options.port));
  return afterUdpProbe(options.address, options.port, (probed) => new NativeListenerSocket(io, options, probed));
}

class DgramListenerSocket implements ListenerSocket {
  readonly io = 'dgram' as const;

  private constructor(
    private readonly socket: ReturnType<typeof createUdpSocket>,
    readonly port: number,
  ) {}

  static async open(options: ListenerSocketOptions): Promise<DgramListenerSocket> {
    const { family, address, port, role } = options;
    const socket = createUdpSocket(family, { reusePort: PER_SESSION_SOCKETS || role !== 'alone' });
    socket.on('message', options.onDatagram);
    socket.on('error', options.onError);
    const bound =
      role === 'member' || (role === 'alone' && !PER_SESSION_SOCKETS)
        ? await bindUdpSocket(socket, address, port)
        : await bindFirstUdpOfGroup(socket, address, port);
    return new DgramListenerSocket(socket, bound);
  }

  send(data: Datagram, port: number, address: string): void {
    this.socket.send(data, port, address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
