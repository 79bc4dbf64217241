/** What the metric collectors read: the server's counters and the current scrape's snapshot. */
import type { EngineCounters } from '../turn/counters.js';
import type { Snapshot } from './snapshot.js';

export interface PortUsage {
  readonly inUse: number;
  readonly total: number;
}

/** Where a scrape's figures come from: one engine here, or the sums of relay workers. */
export interface ScrapeSource {
  readonly counters: EngineCounters;
  /** Taken once per scrape, before the collectors run. */
  takeSnapshot(): Snapshot | Promise<Snapshot>;
  portUsage(): PortUsage;
}

export interface ScrapeState {
  readonly counters: EngineCounters;
  /** The scrape's snapshot, taken before the collectors run. */
  snapshot(): Snapshot;
  portUsage(): PortUsage;
}
