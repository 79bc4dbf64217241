/**
 * RelayControl over relay workers: listings, stats and drain fan out to every worker and are
 * merged; a disconnect by id goes to the worker its id names (turn/allocation.ts).
 */
import type { InUse, RelayControl } from '../control/relay-control.js';
import type { SessionReport } from '../control/server-control.js';
import { serverStats } from '../control/server-stats.js';
import { workerOfAllocation } from '../turn/allocation.js';
import type { SummedMetrics } from './summed-metrics.js';
import type { WorkerHandle } from './worker-handle.js';

export function workersRelayControl(workers: readonly WorkerHandle[], sums: SummedMetrics): RelayControl {
  let draining = false;
  return {
    async sessions(user) {
      const each = await Promise.all(workers.map((w) => w.ask<SessionReport[]>({ what: 'sessions', user }, [])));
      return each.flat().sort((a, b) => a.id - b.id);
    },
    async disconnect(target) {
      const owners = 'id' in target ? [workers[workerOfAllocation(target.id, workers.length)]].filter((w) => w !== undefined) : workers;
      const ended = await Promise.all(owners.map((w) => w.ask({ what: 'disconnect', target }, 0)));
      return ended.reduce((sum, n) => sum + n, 0);
    },
    async stats() {
      const live = await sums.takeSnapshot();
      return serverStats(sums.counters, live);
    },
    drain() {
      draining = true;
      for (const w of workers) void w.ask({ what: 'drain' }, undefined);
    },
    get draining() {
      return draining;
    },
    async inUse(): Promise<InUse> {
      const each = await Promise.all(workers.map((w) => w.ask<InUse>({ what: 'in-use' }, { allocations: 0, inFlight: 0 })));
      return { allocations: each.reduce((sum, u) => sum + u.allocations, 0), inFlight: each.reduce((sum, u) => sum + u.inFlight, 0) };
    },
  };
}
