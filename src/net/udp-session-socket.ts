/**
 * coturn's per-session socket: once a UDP client has an allocation, a socket bound to the
 * listening addr:port (in the listener's reuse group) and connected to the client. The kernel
 * then delivers that client's datagrams to it rather than to the listener, and whatever the
 * client is sent leaves through it: a connected send skips the per-datagram address and route
 * work, 3–5 µs of each packet relayed towards the client (docs/relay-workers.md §3).
 *
 * Between bind and connect it is an unconnected member of the group, so datagrams of other
 * clients may reach it in that window (and sit in its queue after connect). That is harmless:
 * it hands every datagram to the listener's own entry, which finds the session as usual.
 */
import type { RemoteInfo } from 'node:dgram';
import type { TransportAddress } from '../stun/ip.js';
import { bindUdpSocket } from './reuse-port.js';
import { createUdpSocket } from './udp-socket.js';

export class UdpSessionSocket {
  private readonly socket;
  /** True once connected: until then the listener sends for it. */
  connected = false;
  private closed = false;

  constructor(
    local: TransportAddress,
    remote: TransportAddress,
    onDatagram: (data: Buffer, rinfo: RemoteInfo) => void,
    /** It could not be opened (bind or connect failed); it is closed already. */
    onOpenFailed: (error: NodeJS.ErrnoException) => void,
    /** Errors of an open socket, such as ECONNREFUSED after an ICMP port unreachable. */
    onError: (error: Error) => void,
  ) {
    this.socket = createUdpSocket(local.family, { reusePort: true });
    this.socket.on('message', onDatagram);
    const failed = (error: NodeJS.ErrnoException): void => {
      this.close();
      onOpenFailed(error);
    };
    bindUdpSocket(this.socket, local.address, local.port).then(() => {
      if (this.closed) return;
      this.socket.once('error', failed);
      this.socket.connect(remote.port, remote.address, () => {
        this.socket.off('error', failed);
        this.socket.on('error', onError);
        this.connected = !this.closed;
      });
    }, failed);
  }

  send(data: Buffer | Buffer[]): void {
    this.socket.send(data);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    try {
      this.socket.close();
    } catch {
      // Already closed by a failed bind.
    }
  }
}
