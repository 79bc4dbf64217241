/**
 * A relay worker's metrics as it sends them to the main thread: what its counters and traffic
 * series grew by since its last report (so main's sums keep what a dead worker counted), and
 * its gauges as they are now.
 */
import { EngineScrapeSource } from '../metrics/engine-source.js';
import type { PortUsage } from '../metrics/scrape-state.js';
import type { RelayFamily, Traffic, TrafficSeries } from '../metrics/snapshot.js';
import { EngineCounters } from '../turn/counters.js';
import type { TurnEngine } from '../turn/engine.js';
import type { Allocation } from '../turn/allocation.js';
import type { ClientTransport } from '../turn/session.js';

export interface MetricsReport {
  /** The numeric fields of EngineCounters: growth since the last report. */
  readonly counters: Readonly<Record<string, number>>;
  /** Error responses by code: growth since the last report. */
  readonly errorResponses: readonly (readonly [number, number])[];
  /** Ended plus live traffic by series: growth since the last report. */
  readonly traffic: readonly TrafficSeries[];
  /** Gauges, as they are now. */
  readonly allocations: readonly (readonly [ClientTransport, readonly (readonly [RelayFamily, number])[]])[];
  readonly permissions: number;
  readonly channels: number;
  readonly portUsage: PortUsage;
}

/** The numeric fields of a counters object (EngineCounters' plain counters). */
export function numericFields(counters: object): [string, number][] {
  return Object.entries(counters).filter((entry): entry is [string, number] => typeof entry[1] === 'number');
}

const TRAFFIC_FIELDS: readonly (keyof Traffic)[] = ['fromClientPackets', 'fromClientBytes', 'toClientPackets', 'toClientBytes'];

export class MetricsReporter {
  private readonly source: EngineScrapeSource;
  private readonly reported = new EngineCounters();
  private readonly reportedTraffic = new Map<string, Traffic>();

  constructor(
    engine: Pick<TurnEngine, 'traffic'>,
    portUsage: () => PortUsage,
    usernameLabels: boolean,
  ) {
    this.source = new EngineScrapeSource(engine, portUsage, usernameLabels);
  }

  allocationEnded(allocation: Allocation): void {
    this.source.allocationEnded(allocation);
  }

  /** What changed since the last report; the next report starts from here. */
  report(): MetricsReport {
    const snapshot = this.source.takeSnapshot();
    const now = this.source.counters;
    const counters: Record<string, number> = {};
    for (const [name, value] of numericFields(now)) {
      const grown = value - (this.reported as unknown as Record<string, number>)[name]!;
      if (grown !== 0) counters[name] = grown;
      (this.reported as unknown as Record<string, number>)[name] = value;
    }
    const errorResponses: [number, number][] = [];
    for (const [code, count] of now.errorResponses) {
      const grown = count - (this.reported.errorResponses.get(code) ?? 0);
      if (grown !== 0) errorResponses.push([code, grown]);
      this.reported.errorResponses.set(code, count);
    }
    const traffic: TrafficSeries[] = [];
    for (const [key, series] of snapshot.traffic) {
      const before = this.reportedTraffic.get(key);
      const grown = Object.fromEntries(TRAFFIC_FIELDS.map((f) => [f, series.traffic[f] - (before?.[f] ?? 0)])) as unknown as Traffic;
      if (TRAFFIC_FIELDS.some((f) => grown[f] !== 0)) traffic.push({ realm: series.realm, user: series.user, traffic: grown });
      this.reportedTraffic.set(key, { ...series.traffic });
    }
    return {
      counters,
      errorResponses,
      traffic,
      allocations: [...snapshot.allocations].map(([transport, byFamily]) => [transport, [...byFamily]] as const),
      permissions: snapshot.permissions,
      channels: snapshot.channels,
      portUsage: this.source.portUsage(),
    };
  }
}
