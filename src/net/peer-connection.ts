/**
 * An RFC 6062 peer connection as a byte stream: a TCP socket to a peer elsewhere, or one end
 * of an in-process pair joining two TCP relays of this server (see relay-pair.ts).
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ipFamily, type TransportAddress } from '../stun/ip.js';
import type { PeerConnection } from '../turn/relay.js';

/** Peer bytes held until the client's data connection is bound; past this the peer is paused. */
const PENDING_BYTES = 64 * 1024;

export class StreamPeerConnection implements PeerConnection {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private joined = false;

  constructor(
    private readonly stream: Duplex,
    readonly peer: TransportAddress,
  ) {
    stream.on('error', () => {}); // the close that follows is what counts
    stream.on('data', (data: Buffer) => {
      if (this.joined) return;
      this.pending.push(data);
      this.pendingBytes += data.length;
      if (this.pendingBytes > PENDING_BYTES) stream.pause();
    });
  }

  static fromSocket(socket: Socket): StreamPeerConnection {
    socket.setNoDelay(true);
    const address = socket.remoteAddress ?? '';
    return new StreamPeerConnection(socket, { family: ipFamily(address) ?? 4, address, port: socket.remotePort ?? 0 });
  }

  get closed(): boolean {
    return this.stream.destroyed;
  }

  join(client: Duplex, early: Buffer, count?: (fromPeer: boolean, bytes: number) => void): void {
    const peer = this.stream;
    this.joined = true;
    peer.removeAllListeners('data');
    for (const chunk of this.pending) {
      client.write(chunk);
      count?.(true, chunk.length);
    }
    this.pending = [];
    if (early.length > 0) {
      peer.write(early);
      count?.(false, early.length);
    }
    // pipe() carries backpressure both ways; each side's end closes the other.
    peer.pipe(client);
    client.pipe(peer);
    if (count) {
      peer.on('data', (chunk: Buffer) => count(true, chunk.length));
      client.on('data', (chunk: Buffer) => count(false, chunk.length));
    }
    peer.once('close', () => client.destroy());
    client.once('close', () => peer.destroy());
    peer.resume();
  }

  close(): void {
    this.stream.destroy();
  }

  onClose(listener: () => void): void {
    if (this.stream.destroyed) listener();
    else this.stream.once('close', listener);
  }
}
