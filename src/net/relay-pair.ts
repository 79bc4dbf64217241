/**
 * RFC 6062 between two TCP relays of this server. A Connect to another allocation's relayed
 * address should reach it from the connecting relay's own transport address, so that the
 * other client's permission and ConnectionAttempt see that address. Node cannot bind an
 * outgoing socket to a port its relay already listens on (no SO_REUSEPORT on client sockets),
 * so the two relays are joined in-process: each side's peer is the other's relayed address.
 */
import { duplexPair } from 'node:stream';
import type { TransportAddress } from '../stun/ip.js';
import { StreamPeerConnection } from './peer-connection.js';

export interface RelayPair {
  /** The connecting relay's side: its peer is the target's address. */
  readonly connecting: StreamPeerConnection;
  /** The target relay's side, for its allocation as an incoming peer connection. */
  readonly accepting: StreamPeerConnection;
}

export function relayPair(from: TransportAddress, to: TransportAddress): RelayPair {
  const [ours, theirs] = duplexPair();
  // A pair's ends do not close each other; a peer connection closing is a TCP close for both.
  ours.once('close', () => theirs.destroy());
  theirs.once('close', () => ours.destroy());
  return { connecting: new StreamPeerConnection(ours, to), accepting: new StreamPeerConnection(theirs, from) };
}
