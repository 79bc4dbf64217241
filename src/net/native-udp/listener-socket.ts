/**
 * listener-socket.ts's unconnected listening socket with native batched I/O: bound by the addon
 * with SO_REUSEPORT, as the head (after listener-socket.ts's probe) or a member of its addr:port's
 * reuse group, which the per-session sockets then join. No libuv request, event or rinfo per
 * datagram from Node: each datagram is copied out of the receive area into a Buffer of its own
 * (a request may await its credentials past the batch), and what is answered within the batch
 * leaves with its sendmmsg; anything else (after an asynchronous lookup, to an IPv6 client) at once.
 * A plain Binding request may be answered in C without reaching JS at all (`bindingAnswerer`).
 */
import type { RemoteInfo } from 'node:dgram';
import type { ListenerSocket, ListenerSocketOptions } from '../listener-socket.js';
import type { Datagram } from '../udp-session-socket.js';
import type { BindingAnswerer } from '../../turn/binding.js';
import { answersBindingsInC } from './addon.js';
import type { NativeUdpIo } from './io.js';

export class NativeListenerSocket implements ListenerSocket {
  readonly io = 'native' as const;
  readonly port: number;
  readonly bindingAnswerer: BindingAnswerer | undefined;
  private readonly id: number;
  private readonly onError: (error: Error) => void;
  private closed = false;

  /** Throws an Error with `code` (EADDRINUSE, …) when the bind fails. */
  constructor(
    private readonly native: NativeUdpIo,
    options: ListenerSocketOptions,
    port: number,
  ) {
    const { family, address, onDatagram } = options;
    const rinfoFamily: RemoteInfo['family'] = family === 6 ? 'IPv6' : 'IPv4';
    this.onError = options.onError;
    this.id = native.openUnconnected({ family, address, port, reusePort: true }, (data, offset, length, from, fromPort) => {
      const copy = Buffer.allocUnsafe(length);
      data.copy(copy, 0, offset, offset + length);
      onDatagram(copy, { address: from, family: rinfoFamily, port: fromPort, size: length });
    });
    this.port = native.localPort(this.id);
    this.bindingAnswerer = answersBindingsInC() ? native.bindingAnswerer(this.id) : undefined;
  }

  send(data: Datagram, port: number, address: string): void {
    if (this.closed) return;
    const datagram = Array.isArray(data) ? Buffer.concat(data) : data;
    try {
      if (this.native.queueCopy(this.id, datagram, 0, datagram.length, port, address)) return;
      // A refused send (EAGAIN: the socket buffer is full) is dropped and counted by the addon, as its batched sends are.
      this.native.sendNow(this.id, datagram, 0, datagram.length, port, address);
    } catch (error) {
      // Not an IP address of the socket's family: a bug upstream, reported, never thrown into a handler.
      this.onError(error as Error);
    }
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.native.close(this.id);
    }
    return Promise.resolve();
  }
}
