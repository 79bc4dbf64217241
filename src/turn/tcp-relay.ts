/**
 * RFC 6062 TCP relaying: Connect, ConnectionAttempt, ConnectionBind. A peer connection waits
 * up to 30 s for the client's data connection to bind it, then is closed.
 */
import { randomInt } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { TransportAddress } from '../stun/ip.js';
import { AttributeType, MessageBuilder, Method, StunClass, readUint32, readXorAddress } from '../stun/index.js';
import type { Allocation } from './allocation.js';
import type { Authenticated } from './authenticate.js';
import type { EngineCounters } from './counters.js';
import type { EngineContext } from './engine-context.js';
import { refusePeer } from './peer-checks.js';
import type { PeerConnection } from './relay.js';
import { failureFor, send, successFor, type Request } from './respond.js';

/** RFC 6062 §5.2 and §5.3: 30 s to connect to a peer, and for a connection to be bound. */
export const TCP_CONNECT_TIMEOUT_MS = 30_000;
export const CONNECTION_BIND_TIMEOUT_MS = 30_000;

interface Pending {
  readonly allocation: Allocation;
  readonly connection: PeerConnection;
  readonly expiresAt: number;
}

/** Peer connections not yet bound to a client data connection, by CONNECTION-ID. */
export class PendingConnections {
  private readonly byId = new Map<number, Pending>();

  /** `worker`: a relay worker's number, the ids' first byte, so another worker knows whose an id is. */
  constructor(private readonly worker?: number) {}

  add(allocation: Allocation, connection: PeerConnection, now: number): number {
    let id: number;
    do id = this.worker === undefined ? randomInt(1, 2 ** 32 - 1) : this.worker * 2 ** 24 + randomInt(1, 2 ** 24);
    while (this.byId.has(id));
    this.byId.set(id, { allocation, connection, expiresAt: now + CONNECTION_BIND_TIMEOUT_MS });
    allocation.peerConnections.set(id, connection);
    connection.onClose(() => {
      this.byId.delete(id);
      allocation.peerConnections.delete(id);
    });
    return id;
  }

  take(id: number): Pending | undefined {
    const pending = this.byId.get(id);
    this.byId.delete(id);
    return pending;
  }

  /** Closes connections whose client never bound them. */
  expire(now: number): void {
    for (const [id, pending] of this.byId) {
      if (pending.expiresAt > now) continue;
      this.byId.delete(id);
      pending.connection.close();
    }
  }

  get size(): number {
    return this.byId.size;
  }
}

/** Connect (RFC 6062 §5.2): the server opens a TCP connection to the peer for the client. */
export async function handleConnect(ctx: EngineContext, request: Request, allocation: Allocation): Promise<void> {
  const fail = failureFor(ctx, request, allocation.key);
  const relay = allocation.tcpRelay;
  if (!relay) return fail(400, 'Connect needs a TCP allocation');
  const peer = readXorAddress(request.message, AttributeType.XorPeerAddress);
  if (!peer) return fail(400, 'Missing XOR-PEER-ADDRESS');
  const refusal = refusePeer(ctx, allocation, peer, true);
  if (refusal) return fail(refusal.code, refusal.reason);
  if (allocation.peerConnectionTo(peer)) return fail(446);
  const connection = await relay.connect(peer, TCP_CONNECT_TIMEOUT_MS);
  if (!connection) return fail(447);
  if (allocation.closed) return connection.close();
  const id = ctx.pendingConnections.add(allocation, connection, ctx.clock());
  send(ctx, request, successFor(ctx, request).addUint32(AttributeType.ConnectionId, id), allocation.key);
}

/** A peer connected to a TCP relay (RFC 6062 §5.3): a ConnectionAttempt indication tells the client. */
export function acceptPeerConnection(ctx: EngineContext, allocation: Allocation, connection: PeerConnection): void {
  if (allocation.closed || !allocation.hasPermission(connection.peer.address, ctx.clock())) {
    ctx.counters.drop('NoPermission', 0);
    connection.close();
    return;
  }
  const id = ctx.pendingConnections.add(allocation, connection, ctx.clock());
  const attempt = new MessageBuilder(Method.ConnectionAttempt, StunClass.Indication)
    .addUint32(AttributeType.ConnectionId, id)
    .addXorAddress(AttributeType.XorPeerAddress, connection.peer)
    .build({ fingerprint: ctx.config.fingerprint });
  allocation.session.send(attempt);
}

/** ConnectionBind (RFC 6062 §5.4) on a new client connection: it becomes the data connection. */
export async function handleConnectionBind(ctx: EngineContext, request: Request, auth: Authenticated): Promise<void> {
  const { session, message } = request;
  const fail = failureFor(ctx, request, auth.key);
  if (!session.joinPeer || session.allocation) return fail(400, 'ConnectionBind needs a new TCP or TLS connection');
  const id = readUint32(message, AttributeType.ConnectionId);
  if (id === undefined) return fail(400, 'Missing CONNECTION-ID');
  // Relay workers: another worker's id is bound there, this connection's bytes crossing threads.
  const elsewhere = ctx.otherWorkers?.bindElsewhere(id, auth.username);
  const taken = elsewhere ? await elsewhere : takeForBind(ctx, id, auth.username);
  if (typeof taken === 'number') return fail(taken, taken === 400 ? 'Unknown CONNECTION-ID' : undefined);
  send(ctx, request, successFor(ctx, request), auth.key);
  if ('allocation' in taken) session.joinPeer(taken.connection, trafficOf(ctx.counters, taken.allocation));
  else session.joinPeer(taken);
}

/**
 * A ConnectionBind another relay worker received for one of this engine's CONNECTION-IDs:
 * `client` carries that data connection's bytes. Returns 0 when joined, else the error code.
 */
export function bindForOtherWorker(ctx: EngineContext, id: number, username: string, client: Duplex): { code: number; peer?: TransportAddress } {
  const taken = takeForBind(ctx, id, username);
  if (typeof taken === 'number') return { code: taken };
  taken.connection.join(client, Buffer.alloc(0), trafficOf(ctx.counters, taken.allocation));
  return { code: 0, peer: taken.connection.peer };
}

/** The pending peer connection `id` names, if `username`'s; else the error code to answer. */
function takeForBind(ctx: EngineContext, id: number, username: string): Pending | number {
  const pending = ctx.pendingConnections.take(id);
  if (!pending || pending.allocation.closed) return 400;
  if (pending.allocation.username !== username) {
    pending.connection.close();
    return 441;
  }
  return pending;
}

/**
 * Counts a data connection's bytes, each read one packet, as relayed traffic: the
 * allocation's and the server's totals (coturn 4.6.1 counts these reads as its session's too).
 */
function trafficOf(counters: EngineCounters, allocation: Allocation): (fromPeer: boolean, bytes: number) => void {
  return (fromPeer, bytes) => (fromPeer ? counters.countToClient(allocation, 1, bytes) : counters.countToPeer(allocation, 1, bytes));
}
