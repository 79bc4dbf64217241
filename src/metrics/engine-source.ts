/** A ScrapeSource over one engine: its counters, its live allocations, and those that ended. */
import type { Allocation } from '../turn/allocation.js';
import type { TurnEngine } from '../turn/engine.js';
import { loadedNativeUdpIo } from '../net/native-udp/addon.js';
import type { PortUsage, ScrapeSource } from './scrape-state.js';
import { TrafficLedger, takeSnapshot, type Snapshot } from './snapshot.js';

export class EngineScrapeSource implements ScrapeSource {
  private readonly ended: TrafficLedger;
  /** The engine's counters (one object for its life), brought up to now by each takeSnapshot. */
  readonly counters: TurnEngine['counters'];

  constructor(
    private readonly engine: Pick<TurnEngine, 'traffic'>,
    readonly portUsage: () => PortUsage,
    usernameLabels: boolean,
  ) {
    this.ended = new TrafficLedger(usernameLabels);
    this.counters = engine.traffic().counters;
  }

  /** An allocation ended: its final counts join the ended totals (the engine's onAllocationEnded). */
  allocationEnded(allocation: Allocation): void {
    this.ended.allocationEnded(allocation);
  }

  /** Also brings the counters the addon keeps in C up to now. */
  takeSnapshot(): Snapshot {
    // One engine per thread in a server (the main thread's, or a relay worker's): the thread's count is the engine's.
    const { counters, allocations } = this.engine.traffic();
    const io = loadedNativeUdpIo();
    if (io) {
      const native = io.counters();
      counters.udpSendFailures = native.sendErrors;
      counters.udpRoutedPackets = native.routed;
      counters.dtlsRoutedPackets = native.dtlsRouted;
    }
    return takeSnapshot(allocations, this.ended);
  }
}
