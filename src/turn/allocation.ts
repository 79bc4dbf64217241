/**
 * One TURN allocation (RFC 8656 §2.2): relay endpoints, permissions keyed by peer IP, and
 * channel bindings indexed both by number and by peer. Expiry is by timestamp, checked where
 * it matters (on use) and pruned by the engine's expiry queue, so there is no timer per object.
 */
import { LastAnswer } from './last-answer.js';
import type { IpFamily, TransportAddress } from '../stun/ip.js';
import type { Admission } from './admission.js';
import type { OAuthGrant } from './oauth-authenticate.js';
import { TokenBucket } from './bandwidth.js';
import type { PeerConnection, RelayEndpoint, TcpRelayEndpoint } from './relay.js';
import type { ClientSession } from './session.js';
import type { RoutedChannels } from './routed-channels.js';

export interface Channel {
  readonly number: number;
  readonly peerAddress: string;
  readonly peerPort: number;
  readonly peerFamily: IpFamily;
  expiresAt: number;
}

export interface TrafficCounters {
  packetsFromClient: number;
  bytesFromClient: number;
  packetsToClient: number;
  bytesToClient: number;
}

export interface AllocationRelays {
  readonly ipv4?: RelayEndpoint;
  readonly ipv6?: RelayEndpoint;
}

/** What an Allocate settled: for whom, over which relays, for how long, under which lease. */
export type AllocationMade = Pick<Allocation, 'session' | 'username' | 'realm' | 'key' | 'relays' | 'createdAt' | 'admission'> & {
  readonly lifetimeMs: number;
  readonly oauth?: OAuthGrant;
};

let nextAllocationId = 1;
let allocationIdStep = 1;

/**
 * Relay worker `index` of `count` numbers its allocations index+1, index+1+count, …: ids are
 * unique over the server, and (id - 1) % count names the worker that holds one.
 */
export function numberAllocationsFor(index: number, count: number): void {
  nextAllocationId = index + 1;
  allocationIdStep = count;
}

/** Returns what puts the numbering back as it is now (the start-up warm-up numbers allocations of its own). */
export function restoreAllocationNumbering(): () => void {
  const [next, step] = [nextAllocationId, allocationIdStep];
  return () => void ((nextAllocationId = next), (allocationIdStep = step));
}

/** The relay worker (of `count`) whose allocation has this id. */
export const workerOfAllocation = (id: number, count: number): number => (id - 1) % count;

/** RFC 8656 §12: a channel number and peer stay reserved for 5 minutes after the binding expires. */
export const CHANNEL_REBIND_HOLD_MS = 5 * 60 * 1000;

export class Allocation implements TrafficCounters {
  readonly id = (nextAllocationId += allocationIdStep) - allocationIdStep;
  /** Permissions: peer IP -> expiry (ms). */
  private readonly permissions = new Map<string, number>();
  private readonly channelsByNumber = new Map<number, Channel>();
  /** peer IP -> peer port -> channel: no string is built per packet to find it. */
  private readonly channelsByPeer = new Map<string, Map<number, Channel>>();
  expiresAt: number;
  closed = false;
  /** The last request's answer, for its retransmissions. */
  readonly lastAnswer = new LastAnswer();
  packetsFromClient = 0;
  bytesFromClient = 0;
  packetsToClient = 0;
  bytesToClient = 0;
  /** RFC 6062: the TCP relay, and its peer connections by CONNECTION-ID. */
  tcpRelay: TcpRelayEndpoint | undefined;
  readonly peerConnections = new Map<number, PeerConnection>();
  /** `max-bps`, each way; absent when unlimited. */
  readonly toPeerLimit: TokenBucket | undefined;
  readonly toClientLimit: TokenBucket | undefined;
  /** Its channels relayed below JS, where the session can (none with `max-bps`: each packet is metered here). */
  routes: RoutedChannels | undefined;

  /** The client 5-tuple it serves; RFC 8016 mobility may move it to another (moveTo). */
  private currentSession: ClientSession;
  /** RFC 8016: the client asked for a MOBILITY-TICKET; its ticket's generation steps on each move. */
  mobile = false;
  ticketGeneration = 0;
  /** Fixed, except that an OAuth client's new token may name another key (kid) and bring another MAC key. */
  username: string;
  readonly realm: string;
  /** The long-term key that signs every response to this allocation's requests. */
  key: Buffer | undefined;
  /** Made with an RFC 7635 access token: what the latest token granted. */
  oauth: OAuthGrant | undefined;
  readonly relays: AllocationRelays;
  readonly createdAt: number;
  /** Its place in the quotas and the bandwidth pool, given back when it ends. */
  readonly admission: Admission;

  constructor(made: AllocationMade) {
    this.currentSession = made.session;
    this.username = made.username;
    this.realm = made.realm;
    this.key = made.key;
    this.oauth = made.oauth;
    this.relays = made.relays;
    this.createdAt = made.createdAt;
    this.admission = made.admission;
    this.expiresAt = made.createdAt + made.lifetimeMs;
    const bps = made.admission.bytesPerSecond;
    this.toPeerLimit = bps > 0 ? new TokenBucket(bps, made.createdAt) : undefined;
    this.toClientLimit = bps > 0 ? new TokenBucket(bps, made.createdAt) : undefined;
  }

  /** An OAuth client's new token (coturn's clients send one with every Refresh): its kid and MAC key count from now. */
  renewOAuth(username: string, key: Buffer | undefined, grant: OAuthGrant): void {
    this.username = username;
    this.key = key;
    this.oauth = grant;
  }

  get session(): ClientSession {
    return this.currentSession;
  }

  /** RFC 8016: from now on it serves `session`; the ticket that moved it is spent. */
  moveTo(session: ClientSession): void {
    this.routes?.clear();
    this.currentSession = session;
    this.ticketGeneration = (this.ticketGeneration + 1) >>> 0;
  }

  relayFor(family: IpFamily): RelayEndpoint | undefined {
    return family === 4 ? this.relays.ipv4 : this.relays.ipv6;
  }

  /** A peer of this family can be reached (by the UDP relay, or the TCP one). */
  hasRelayFamily(family: IpFamily): boolean {
    return this.relayFor(family) !== undefined || this.tcpRelay?.local.family === family;
  }

  get relayAddresses(): TransportAddress[] {
    const list: TransportAddress[] = [];
    if (this.relays.ipv4) list.push(this.relays.ipv4.advertised);
    if (this.relays.ipv6) list.push(this.relays.ipv6.advertised);
    if (this.tcpRelay) list.push(this.tcpRelay.advertised);
    return list;
  }

  /** The TCP connection to this peer, if there is one. */
  peerConnectionTo(peer: TransportAddress): PeerConnection | undefined {
    for (const connection of this.peerConnections.values()) {
      if (connection.peer.address === peer.address && connection.peer.port === peer.port) return connection;
    }
    return undefined;
  }

  hasPermission(peerAddress: string, now: number): boolean {
    const expiresAt = this.permissions.get(peerAddress);
    return expiresAt !== undefined && expiresAt > now;
  }

  /** When the permission for this peer IP lapses (0: none). */
  permissionExpiry(peerAddress: string): number {
    return this.permissions.get(peerAddress) ?? 0;
  }

  installPermission(peerAddress: string, expiresAt: number): void {
    this.permissions.set(peerAddress, expiresAt);
  }

  get permissionCount(): number {
    return this.permissions.size;
  }

  channelByNumber(number: number, now: number): Channel | undefined {
    const channel = this.channelsByNumber.get(number);
    return channel && channel.expiresAt > now ? channel : undefined;
  }

  channelByPeer(peerAddress: string, peerPort: number, now: number): Channel | undefined {
    const channel = this.channelsByPeer.get(peerAddress)?.get(peerPort);
    return channel && channel.expiresAt > now ? channel : undefined;
  }

  /** Binding of a number that may be expired but not yet pruned (RFC 8656 §12: rebinding rules). */
  anyChannelByNumber(number: number): Channel | undefined {
    return this.channelsByNumber.get(number);
  }

  anyChannelByPeer(peerAddress: string, peerPort: number): Channel | undefined {
    return this.channelsByPeer.get(peerAddress)?.get(peerPort);
  }

  bindChannel(channel: Channel): void {
    this.channelsByNumber.set(channel.number, channel);
    let byPort = this.channelsByPeer.get(channel.peerAddress);
    if (!byPort) this.channelsByPeer.set(channel.peerAddress, (byPort = new Map()));
    byPort.set(channel.peerPort, channel);
  }

  get channelCount(): number {
    return this.channelsByNumber.size;
  }

  /**
   * Forgets expired permissions and channels; returns the earliest time something else
   * expires (or the allocation itself), so the caller knows when to look again.
   */
  prune(now: number): number {
    let next = this.expiresAt;
    for (const [peer, expiresAt] of this.permissions) {
      if (expiresAt <= now) this.permissions.delete(peer);
      else if (expiresAt < next) next = expiresAt;
    }
    for (const channel of this.channelsByNumber.values()) {
      const forgetAt = channel.expiresAt + CHANNEL_REBIND_HOLD_MS;
      if (forgetAt <= now) this.unbindChannel(channel);
      else if (forgetAt < next) next = forgetAt;
    }
    return next;
  }

  /**
   * Drops the permissions, channels and TCP peer connections whose peer `refused` rules out
   * (new peer rules after a reload); returns how many went.
   */
  revokePeers(refused: (address: string, port?: number) => boolean): number {
    let revoked = 0;
    for (const peer of this.permissions.keys()) {
      if (refused(peer)) {
        this.permissions.delete(peer);
        revoked++;
      }
    }
    for (const channel of this.channelsByNumber.values()) {
      if (refused(channel.peerAddress, channel.peerPort)) {
        this.unbindChannel(channel);
        revoked++;
      }
    }
    for (const [id, connection] of this.peerConnections) {
      if (refused(connection.peer.address, connection.peer.port)) {
        connection.close();
        this.peerConnections.delete(id);
        revoked++;
      }
    }
    // A revoked permission ends the routes of its channels too: all go, JS makes the live ones again.
    if (revoked > 0) this.routes?.clear();
    return revoked;
  }

  private unbindChannel(channel: Channel): void {
    this.routes?.remove(channel.number);
    this.channelsByNumber.delete(channel.number);
    const byPort = this.channelsByPeer.get(channel.peerAddress);
    byPort?.delete(channel.peerPort);
    if (byPort?.size === 0) this.channelsByPeer.delete(channel.peerAddress);
  }

  /** Closes the relay sockets; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.routes?.clear();
    this.relays.ipv4?.close();
    this.relays.ipv6?.close();
    this.tcpRelay?.close();
    for (const connection of this.peerConnections.values()) connection.close();
    this.peerConnections.clear();
    this.permissions.clear();
    this.channelsByNumber.clear();
    this.channelsByPeer.clear();
  }
}
