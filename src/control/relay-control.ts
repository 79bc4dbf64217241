/**
 * What the admin interface and the drain do to the relaying, whether it is one engine on this
 * thread or relay workers (workers/relay-workers.ts fans each call out to them).
 */
import { TrafficLedger, takeSnapshot } from '../metrics/snapshot.js';
import type { TurnEngine } from '../turn/engine.js';
import { disconnectOnEngine, engineSessions, type DisconnectTarget } from './engine-sessions.js';
import type { SessionReport } from './server-control.js';
import { serverStats } from './server-stats.js';

/** Allocations still served, and Allocates still binding their relays. */
export interface InUse {
  readonly allocations: number;
  readonly inFlight: number;
}

export interface RelayControl {
  /** Live allocations (of `user`, when given), by id. */
  sessions(user: string | undefined): Promise<SessionReport[]>;
  /** Ends the allocations `target` names, wherever they are; how many ended. */
  disconnect(target: DisconnectTarget): Promise<number>;
  stats(): Promise<Record<string, number>>;
  /** From now on no new allocation is made anywhere. */
  drain(): void;
  readonly draining: boolean;
  inUse(): Promise<InUse>;
}

type Engine = Pick<TurnEngine, 'allocations' | 'allocationCount' | 'traffic' | 'release' | 'drain' | 'draining' | 'allocationsInFlight'>;

export function engineRelayControl(engine: Engine, clock: () => number = Date.now): RelayControl {
  return {
    sessions: (user) => Promise.resolve(engineSessions(engine, user, clock())),
    disconnect: (target) => Promise.resolve(disconnectOnEngine(engine, target)),
    // A fresh ledger: only the live allocations are counted, and nothing is remembered.
    stats: () => {
      const { counters, allocations } = engine.traffic();
      return Promise.resolve(serverStats(counters, takeSnapshot(allocations, new TrafficLedger(false))));
    },
    drain: () => engine.drain(),
    get draining() {
      return engine.draining;
    },
    inUse: () => Promise.resolve({ allocations: engine.allocationCount, inFlight: engine.allocationsInFlight }),
  };
}
