/**
 * An allocation's channels relayed below JS (native UDP I/O's routes, docs/native-udp.md).
 * Once the data plane has relayed a packet on a channel, with every check done, the channel is
 * handed to the session's router: from then on its packets both ways are relayed without JS,
 * as long as the channel (and, from the peer, the peer's permission) is live by the expiry
 * times given here, which the router checks per packet against the same clock. A refreshed
 * channel or permission reaches the router at the next packet JS relays (the old time
 * lapsing sends it there). What the routes relayed joins the allocation's and the engine's
 * counters at collect() and when a route goes.
 */
import type { Allocation, Channel } from './allocation.js';
import type { EngineCounters } from './counters.js';

/** Counts of one route: packets to the peer, bytes to the peer, packets to the client, bytes to the client. */
export type RouteCounts = ArrayLike<number>;

/** What a session offers to relay its channels below JS (net/native-udp). */
export interface ChannelRouter {
  /** A route from this session's socket through relay socket `relayId`, or -1 when none can be made. */
  add(relayId: number, channel: number, peerAddress: string, peerPort: number, channelExpiresAt: number, permissionExpiresAt: number): number;
  setExpiry(handle: number, channelExpiresAt: number, permissionExpiresAt: number): void;
  /** What the route relayed so far; valid until the next call. */
  counts(handle: number): RouteCounts;
  /** Drops the route; returns its final counts as counts() does. */
  remove(handle: number): RouteCounts;
}

interface Route {
  readonly handle: number;
  readonly router: ChannelRouter;
  channelExpiresAt: number;
  permissionExpiresAt: number;
  /** Its counts when last folded into the allocation's. */
  readonly folded: [number, number, number, number];
}

export class RoutedChannels {
  private readonly routes = new Map<number, Route>();

  constructor(
    private readonly allocation: Allocation,
    private readonly totals: EngineCounters,
  ) {}

  /** The data plane just relayed a packet on `channel`: its next ones may go below JS. */
  relayed(channel: Channel): void {
    const allocation = this.allocation;
    const route = this.routes.get(channel.number);
    if (route) {
      const permissionExpiresAt = allocation.permissionExpiry(channel.peerAddress);
      if (route.channelExpiresAt === channel.expiresAt && route.permissionExpiresAt === permissionExpiresAt) return;
      route.channelExpiresAt = channel.expiresAt;
      route.permissionExpiresAt = permissionExpiresAt;
      return route.router.setExpiry(route.handle, channel.expiresAt, permissionExpiresAt);
    }
    const router = allocation.session.channelRouter;
    const relayId = allocation.relayFor(channel.peerFamily)?.nativeId;
    if (!router || relayId === undefined) return;
    const permissionExpiresAt = allocation.permissionExpiry(channel.peerAddress);
    const handle = router.add(relayId, channel.number, channel.peerAddress, channel.peerPort, channel.expiresAt, permissionExpiresAt);
    if (handle < 0) return;
    this.routes.set(channel.number, { handle, router, channelExpiresAt: channel.expiresAt, permissionExpiresAt, folded: [0, 0, 0, 0] });
  }

  /** Brings the allocation's and the engine's counters up to now. */
  collect(): void {
    for (const route of this.routes.values()) this.fold(route, route.router.counts(route.handle));
  }

  /** The channel is unbound: its route goes (its counts kept). */
  remove(number: number): void {
    const route = this.routes.get(number);
    if (!route) return;
    this.fold(route, route.router.remove(route.handle));
    this.routes.delete(number);
  }

  /** Every route goes (revoked peers, another 5-tuple, the allocation's end): JS relays until new ones are made. */
  clear(): void {
    for (const number of [...this.routes.keys()]) this.remove(number);
  }

  private fold(route: Route, counts: RouteCounts): void {
    const { folded } = route;
    const toPeerPackets = counts[0]! - folded[0];
    const toPeerBytes = counts[1]! - folded[1];
    const toClientPackets = counts[2]! - folded[2];
    const toClientBytes = counts[3]! - folded[3];
    if (toPeerPackets === 0 && toClientPackets === 0) return;
    folded[0] = counts[0]!;
    folded[1] = counts[1]!;
    folded[2] = counts[2]!;
    folded[3] = counts[3]!;
    this.totals.countToPeer(this.allocation, toPeerPackets, toPeerBytes);
    this.totals.countToClient(this.allocation, toClientPackets, toClientBytes);
  }
}
