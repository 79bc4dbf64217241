/** What the engine needs to know about, and do with, the client side of a 5-tuple. */
import type { TransportAddress } from '../stun/ip.js';
import type { Allocation } from './allocation.js';
import type { PeerConnection } from './relay.js';
import type { ChannelRouter } from './routed-channels.js';

export type ClientTransport = 'udp' | 'tcp' | 'tls' | 'dtls';

export interface ClientSession {
  readonly transport: ClientTransport;
  /** The client's address as the server sees it. */
  readonly remote: TransportAddress;
  /** The server address the client reached. */
  readonly local: TransportAddress;
  readonly allocation: Allocation | undefined;
  /** Remembers (or forgets) the allocation of this 5-tuple; UDP indexes the session by it. */
  setAllocation(allocation: Allocation | undefined): void;
  /** True while an Allocate for this 5-tuple is being served (its relay is being bound). */
  readonly allocating: boolean;
  /** Marks that time, so a retransmitted Allocate finds this same session (UDP indexes it). */
  setAllocating(allocating: boolean): void;
  /** A response: always sent. */
  send(data: Buffer): void;
  /**
   * Native UDP I/O: what this thread queued for the end of the batch (this answer, and those
   * before it, in order) leaves now, ahead of the work that follows the answer.
   */
  sendQueuedNow?(): void;
  /**
   * Relayed data (a Data indication): a stream session drops it, and says so by returning
   * false, when the client is not reading fast enough.
   */
  sendRelayed(data: Buffer): boolean;
  /** A ChannelData header and its payload, as one datagram or frame; false when dropped. */
  sendChannelData(header: Buffer, payload: Buffer): boolean;
  /**
   * UDP: ChannelData on `channel` with `length` bytes of `data` from `offset`, sent without a
   * copy where it can (native I/O); false when dropped. Sessions without it get sendChannelData.
   */
  sendChannelDataFrom?(channel: number, data: Buffer, offset: number, length: number): boolean;
  /** Its channels may be relayed below JS (native UDP I/O): by channelRouter, once it has one. */
  readonly routesChannels?: boolean;
  /** Relays channels below JS from now on (a UDP client's own socket); absent where it cannot now. */
  readonly channelRouter?: ChannelRouter;
  /**
   * Stream sessions only (RFC 6062 ConnectionBind): from now on this connection carries the
   * peer connection's bytes, raw, both ways.
   */
  joinPeer?(connection: PeerConnection, count?: (fromPeer: boolean, bytes: number) => void): void;
}
