/**
 * An allocation's UDP relay socket, whichever does its I/O: `dgram`, or native batched I/O
 * (native-udp/). A peer datagram is `length` bytes of `data` from `offset`; with native I/O
 * `data` is the shared receive area, valid only while the handler runs.
 */
import type { Socket } from 'node:dgram';
import { ipFamily } from '../stun/ip.js';
import type { NativeUdpIo } from './native-udp/io.js';
import { createUdpSocket } from './udp-socket.js';

export type RelayDatagramHandler = (data: Buffer, address: string, port: number, offset: number, length: number) => void;

export interface RelaySocket {
  /** Every datagram from now on goes to `handler` (one handler per socket). */
  onDatagram(handler: RelayDatagramHandler): void;
  /** The bytes need to stay valid only during the call (a TCP client's frame may be a view of a reused read buffer). */
  send(data: Buffer, offset: number, length: number, port: number, address: string): void;
  /** `closed` runs once the port can be bound again. */
  close(closed?: () => void): void;
  /** Its native I/O socket number, while open. */
  readonly nativeId?: number;
}

export interface RelayBindOptions {
  readonly receiveBufferSize?: number;
  /** Errors of a bound socket (ICMP errors on send, …): nothing to act on. */
  readonly onError: (error: Error) => void;
}

/** Binds ip:port exclusively; undefined when the port is taken (or cannot be bound). */
export function bindRelaySocket(io: NativeUdpIo | undefined, ip: string, port: number, options: RelayBindOptions): Promise<RelaySocket | undefined> {
  return io ? Promise.resolve(bindNative(io, ip, port, options)) : bindDgram(ip, port, options);
}

function bindNative(io: NativeUdpIo, ip: string, port: number, options: RelayBindOptions): RelaySocket | undefined {
  let handler: RelayDatagramHandler | undefined;
  let id: number;
  // Once closed, its number may be another socket's: a later close or send must not reach the addon.
  let closed = false;
  try {
    id = io.openUnconnected({ family: ipFamily(ip)!, address: ip, port, receiveBufferSize: options.receiveBufferSize }, (data, offset, length, address, peerPort) =>
      handler?.(data, address, peerPort, offset, length),
    );
  } catch {
    return undefined;
  }
  return {
    get nativeId() {
      return closed ? undefined : id;
    },
    onDatagram: (next) => (handler = next),
    send: (data, offset, length, peerPort, address) => {
      if (closed) return;
      // Queued when it is a part of this turn's receive area (no copy), or copied into the
      // send area when made during this turn's batch (a DTLS client's decrypted data); else sent now.
      if (io.queueSend(id, data, offset, length, 0, peerPort, address)) return;
      if (io.queueCopy(id, data, offset, length, peerPort, address)) return;
      const code = io.sendNow(id, data, offset, length, peerPort, address);
      if (code !== 0) options.onError(new Error(`send to ${address}:${peerPort}: errno ${code}`));
    },
    close: (onClosed) => {
      if (!closed) io.close(id);
      closed = true;
      if (onClosed) setImmediate(onClosed);
    },
  };
}

function bindDgram(ip: string, port: number, options: RelayBindOptions): Promise<RelaySocket | undefined> {
  const socket = createUdpSocket(ipFamily(ip)!);
  return new Promise((resolve) => {
    const onError = (): void => {
      socket.close();
      resolve(undefined);
    };
    socket.once('error', onError);
    socket.bind({ address: ip, port, exclusive: true }, () => {
      socket.off('error', onError);
      socket.on('error', options.onError);
      if (options.receiveBufferSize) {
        try {
          socket.setRecvBufferSize(options.receiveBufferSize);
        } catch {
          // The kernel's limit applies; not worth failing an allocation for.
        }
      }
      resolve(dgramRelaySocket(socket));
    });
  });
}

function dgramRelaySocket(socket: Socket): RelaySocket {
  return {
    onDatagram: (handler) => socket.on('message', (data, rinfo) => handler(data, rinfo.address, rinfo.port, 0, data.length)),
    // dgram holds on to what it could not send at once: a copy, since `data` may be reused after the call.
    send: (data, offset, length, port, address) => socket.send(Buffer.from(data.subarray(offset, offset + length)), port, address),
    close: (closed) => socket.close(closed),
  };
}
