/** What the metric collectors read: the engine's counters and the current scrape's snapshot. */
import type { EngineCounters } from '../turn/counters.js';
import type { Snapshot } from './snapshot.js';

export interface PortUsage {
  readonly inUse: number;
  readonly total: number;
}

export interface ScrapeState {
  readonly counters: EngineCounters;
  /** Taken once per scrape, before the collectors run. */
  snapshot(): Snapshot;
  portUsage(): PortUsage;
}
