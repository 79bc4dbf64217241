/**
 * The main thread's metrics with relay workers: the sum of what the workers report. Counters
 * and traffic only grow (each report adds its growth), so what a dead worker counted stays;
 * gauges are each live worker's latest, and a dead worker's are dropped.
 */
import type { PortUsage, ScrapeSource } from '../metrics/scrape-state.js';
import { addTraffic, type RelayFamily, type Snapshot, type TrafficSeries } from '../metrics/snapshot.js';
import { EngineCounters } from '../turn/counters.js';
import type { ClientTransport } from '../turn/session.js';
import type { MetricsReport } from './metrics-report.js';

type Gauges = Pick<MetricsReport, 'allocations' | 'permissions' | 'channels' | 'portUsage'>;

export class SummedMetrics implements ScrapeSource {
  readonly counters = new EngineCounters();
  private readonly traffic = new Map<string, TrafficSeries>();
  private readonly gauges = new Map<number, Gauges>();

  /**
   * @param refresh asks every live worker for a report (each comes back through add()) and
   *   resolves once they have answered, so a scrape shows what happened up to it.
   */
  constructor(private readonly refresh: () => Promise<void>) {}

  add(worker: number, report: MetricsReport): void {
    const counters = this.counters as unknown as Record<string, number>;
    for (const [name, grown] of Object.entries(report.counters)) counters[name] = (counters[name] ?? 0) + grown;
    for (const [code, grown] of report.errorResponses) this.counters.errorResponses.set(code, (this.counters.errorResponses.get(code) ?? 0) + grown);
    for (const series of report.traffic) {
      const key = series.user === undefined ? series.realm : `${series.realm}\u0000${series.user}`;
      const into = this.traffic.get(key);
      if (into) addTraffic(into.traffic, series.traffic);
      else this.traffic.set(key, { realm: series.realm, user: series.user, traffic: { ...series.traffic } });
    }
    this.gauges.set(worker, { allocations: report.allocations, permissions: report.permissions, channels: report.channels, portUsage: report.portUsage });
  }

  /** A worker that exited holds nothing now; what it counted stays in the sums. */
  workerGone(worker: number): void {
    this.gauges.delete(worker);
  }

  async takeSnapshot(): Promise<Snapshot> {
    await this.refresh();
    const allocations = new Map<ClientTransport, Map<RelayFamily, number>>();
    let permissions = 0;
    let channels = 0;
    for (const gauges of this.gauges.values()) {
      for (const [transport, byFamily] of gauges.allocations) {
        let into = allocations.get(transport);
        if (!into) allocations.set(transport, (into = new Map()));
        for (const [family, n] of byFamily) into.set(family, (into.get(family) ?? 0) + n);
      }
      permissions += gauges.permissions;
      channels += gauges.channels;
    }
    const traffic = new Map([...this.traffic].map(([key, s]) => [key, { realm: s.realm, user: s.user, traffic: { ...s.traffic } }]));
    return { traffic, allocations, permissions, channels };
  }

  portUsage(): PortUsage {
    let inUse = 0;
    let total = 0;
    for (const gauges of this.gauges.values()) {
      inUse += gauges.portUsage.inUse;
      total += gauges.portUsage.total;
    }
    return { inUse, total };
  }
}
