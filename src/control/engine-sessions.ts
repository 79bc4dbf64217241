/**
 * `sessions` and `disconnect` on one engine: what the admin interface does to the
 * single-thread server, and what each relay worker does when main asks it.
 */
import type { TurnEngine } from '../turn/engine.js';
import type { SessionReport } from './server-control.js';
import { sessionReport } from './session-report.js';

export const DISCONNECT_REASON = 'disconnected by admin';

export type DisconnectTarget = { readonly id: number } | { readonly user: string };

type Engine = Pick<TurnEngine, 'allocations' | 'release'>;

const matching = (engine: Engine, filter: DisconnectTarget | undefined) =>
  [...engine.allocations].filter((a) => filter === undefined || ('id' in filter ? a.id === filter.id : a.username === filter.user));

/** The engine's live allocations (of `user`, when given), by id. */
export function engineSessions(engine: Engine, user: string | undefined, now: number): SessionReport[] {
  return matching(engine, user === undefined ? undefined : { user })
    .sort((a, b) => a.id - b.id)
    .map((a) => sessionReport(a, now));
}

/** Ends the allocations `target` names; how many ended. */
export function disconnectOnEngine(engine: Engine, target: DisconnectTarget): number {
  const ending = matching(engine, target);
  // Stream and DTLS sessions close their connection when their allocation ends.
  for (const allocation of ending) engine.release(allocation, DISCONNECT_REASON);
  return ending.length;
}
