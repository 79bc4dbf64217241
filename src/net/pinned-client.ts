/**
 * A UDP client served by a relay worker other than the one the kernel's SO_REUSEPORT hash
 * hands its datagrams to (an Allocate forwarded for its RESERVATION-TOKEN): a socket bound to
 * the listening addr:port in the listener's group and connected to that client, so the kernel
 * delivers the client's later datagrams here (docs/relay-workers.md §2) and answers still
 * leave from the address the client talks to.
 *
 * What is sent before connect completes waits: the client's next request, sent on reading the
 * Allocate answer, must find the connected socket, or it reaches the other worker (437).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Logger } from '../log/logger-interface.js';
import type { TransportAddress } from '../stun/ip.js';

type Datagram = Buffer | Buffer[];

export class PinnedClient {
  private readonly socket: Socket;
  /** Sends held until connected; undefined once connected (or given up). */
  private waiting: Datagram[] | undefined = [];
  private closed = false;

  constructor(
    local: TransportAddress,
    client: TransportAddress,
    /** The listener's entry: this socket's datagrams are the listener's. */
    deliver: (data: Buffer, rinfo: RemoteInfo) => void,
    /** Sends through the listener's socket: used when the pin cannot be made. */
    private readonly unpinned: (data: Datagram) => void,
    logger: Logger,
  ) {
    this.socket = createSocket({ type: local.family === 6 ? 'udp6' : 'udp4', ipv6Only: local.family === 6, reusePort: true });
    this.socket.on('message', deliver);
    const where = `UDP ${local.address}:${local.port} -> ${client.address}:${client.port}`;
    const failed = (error: Error): void => {
      logger.warn(`${where}: client not pinned to this relay worker (${error.message}); its next datagrams may reach another worker`);
      this.flush(this.unpinned);
      this.close();
    };
    this.socket.once('error', failed);
    this.socket.bind({ address: local.address, port: local.port, exclusive: true }, () => {
      if (this.closed) return;
      this.socket.connect(client.port, client.address, () => {
        this.socket.off('error', failed);
        this.socket.on('error', (error) => logger.debug(`${where}: ${error.message}`));
        this.flush((data) => this.socket.send(data));
      });
    });
  }

  send(data: Datagram): void {
    if (this.waiting) this.waiting.push(data);
    else if (this.closed) this.unpinned(data);
    else this.socket.send(data);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // An answer sent as the allocation ends (Refresh 0) still goes out.
    this.flush(this.unpinned);
    try {
      this.socket.close();
    } catch {
      // Closed already.
    }
  }

  private flush(send: (data: Datagram) => void): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    for (const data of waiting ?? []) send(data);
  }
}
