/**
 * `turnpike admin stats`: the engine's counters under their own names (so a counter added
 * there shows up here without a change), and what is live now, read as a metrics scrape does.
 */
import { TrafficLedger, takeSnapshot } from '../metrics/snapshot.js';
import type { TurnEngine } from '../turn/engine.js';
import type { ClientTransport } from '../turn/session.js';

/** Every transport gets its line, 0 included, so scripts find the same keys every time. */
const TRANSPORTS: readonly ClientTransport[] = ['udp', 'tcp', 'tls', 'dtls'];

export function serverStats(engine: TurnEngine): Record<string, number> {
  const stats: Record<string, number> = {};
  for (const [name, value] of Object.entries(engine.counters)) {
    if (typeof value === 'number') stats[name] = value;
  }
  for (const [code, count] of engine.counters.errorResponses) stats[`errorResponses.${code}`] = count;
  // A fresh ledger: only the live allocations are counted, and nothing is remembered.
  const live = takeSnapshot(engine.allocations, new TrafficLedger(false));
  stats.allocations = engine.allocations.size;
  for (const transport of TRANSPORTS) {
    stats[`allocations.${transport}`] = [...(live.allocations.get(transport)?.values() ?? [])].reduce((sum, n) => sum + n, 0);
  }
  stats.permissions = live.permissions;
  stats.channels = live.channels;
  stats.uptimeSeconds = Math.round(process.uptime());
  return stats;
}
