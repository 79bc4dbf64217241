/**
 * What a scrape shows, read in one pass over the live allocations plus the totals of the
 * ended ones. Nothing here runs per packet: the data plane only bumps plain fields, and this
 * reads them once per scrape.
 */
import type { Allocation } from '../turn/allocation.js';
import type { ClientSession, ClientTransport } from '../turn/session.js';

/** What a scrape reads of an allocation: its labels, counters and sizes, nothing it does. */
export type AllocationView = Pick<
  Allocation,
  'realm' | 'username' | 'packetsFromClient' | 'bytesFromClient' | 'packetsToClient' | 'bytesToClient' | 'relayAddresses' | 'permissionCount' | 'channelCount'
> & { readonly session: Pick<ClientSession, 'transport'> };

/** The per-allocation counters coturn's traffic metrics are made of (relayed payload bytes). */
export interface Traffic {
  fromClientPackets: number;
  fromClientBytes: number;
  toClientPackets: number;
  toClientBytes: number;
}

export interface TrafficSeries {
  readonly realm: string;
  /** Only with `prometheus-username-labels`. */
  readonly user: string | undefined;
  readonly traffic: Traffic;
}

export type RelayFamily = 'ipv4' | 'ipv6' | 'dual';

export interface Snapshot {
  /** Ended plus live traffic, by realm (and user). */
  readonly traffic: ReadonlyMap<string, TrafficSeries>;
  /** Live allocations by client transport and relay family. */
  readonly allocations: ReadonlyMap<ClientTransport, ReadonlyMap<RelayFamily, number>>;
  readonly permissions: number;
  readonly channels: number;
}

const zero = (): Traffic => ({ fromClientPackets: 0, fromClientBytes: 0, toClientPackets: 0, toClientBytes: 0 });

export function addTraffic(into: Traffic, allocation: Traffic): void {
  into.fromClientPackets += allocation.fromClientPackets;
  into.fromClientBytes += allocation.fromClientBytes;
  into.toClientPackets += allocation.toClientPackets;
  into.toClientBytes += allocation.toClientBytes;
}

const trafficOf = (a: AllocationView): Traffic => ({
  fromClientPackets: a.packetsFromClient,
  fromClientBytes: a.bytesFromClient,
  toClientPackets: a.packetsToClient,
  toClientBytes: a.bytesToClient,
});

/** From the addresses the client was given, so that any kind of relay (UDP, RFC 6062 TCP) counts. */
function relayFamily(a: AllocationView): RelayFamily {
  let v4 = false;
  let v6 = false;
  for (const address of a.relayAddresses) {
    if (address.family === 4) v4 = true;
    else v6 = true;
  }
  if (v4 && v6) return 'dual';
  return v6 ? 'ipv6' : 'ipv4';
}

/**
 * Traffic of allocations that have ended, by label set. Each allocation is counted once,
 * with its final counters, so a series never goes down when its allocation ends.
 */
export class TrafficLedger {
  private readonly ended = new Map<string, TrafficSeries>();
  private readonly counted = new WeakSet<AllocationView>();

  constructor(private readonly usernameLabels: boolean) {}

  key(a: AllocationView): string {
    return this.usernameLabels ? `${a.realm}\u0000${a.username}` : a.realm;
  }

  series(a: AllocationView, from: Map<string, TrafficSeries>): TrafficSeries {
    const key = this.key(a);
    let series = from.get(key);
    if (!series) from.set(key, (series = { realm: a.realm, user: this.usernameLabels ? a.username : undefined, traffic: zero() }));
    return series;
  }

  allocationEnded(a: AllocationView): void {
    if (this.counted.has(a)) return;
    this.counted.add(a);
    addTraffic(this.series(a, this.ended).traffic, trafficOf(a));
  }

  /** A copy of the ended totals, to add the live allocations to. */
  endedCopy(): Map<string, TrafficSeries> {
    const copy = new Map<string, TrafficSeries>();
    for (const [key, s] of this.ended) copy.set(key, { realm: s.realm, user: s.user, traffic: { ...s.traffic } });
    return copy;
  }
}

export function takeSnapshot(live: Iterable<AllocationView>, ledger: TrafficLedger): Snapshot {
  const traffic = ledger.endedCopy();
  const allocations = new Map<ClientTransport, Map<RelayFamily, number>>();
  let permissions = 0;
  let channels = 0;
  for (const a of live) {
    addTraffic(ledger.series(a, traffic).traffic, trafficOf(a));
    const transport = a.session.transport;
    let byFamily = allocations.get(transport);
    if (!byFamily) allocations.set(transport, (byFamily = new Map()));
    const family = relayFamily(a);
    byFamily.set(family, (byFamily.get(family) ?? 0) + 1);
    permissions += a.permissionCount;
    channels += a.channelCount;
  }
  return { traffic, allocations, permissions, channels };
}

export const EMPTY_SNAPSHOT: Snapshot = { traffic: new Map(), allocations: new Map(), permissions: 0, channels: 0 };
