/**
 * `turnpike admin stats`: the engine's counters under their own names (so a counter added
 * there shows up here without a change), and what is live now, read as a metrics scrape does.
 */
import type { Snapshot } from '../metrics/snapshot.js';
import type { EngineCounters } from '../turn/counters.js';
import type { ClientTransport } from '../turn/session.js';

/** Every transport gets its line, 0 included, so scripts find the same keys every time. */
const TRANSPORTS: readonly ClientTransport[] = ['udp', 'tcp', 'tls', 'dtls'];

/** `live`: a snapshot of the live allocations (its traffic is not read). */
export function serverStats(counters: EngineCounters, live: Snapshot): Record<string, number> {
  const stats: Record<string, number> = {};
  for (const [name, value] of Object.entries(counters)) {
    if (typeof value === 'number') stats[name] = value;
  }
  for (const [code, count] of counters.errorResponses) stats[`errorResponses.${code}`] = count;
  stats.allocations = 0;
  for (const transport of TRANSPORTS) {
    const count = [...(live.allocations.get(transport)?.values() ?? [])].reduce((sum, n) => sum + n, 0);
    stats[`allocations.${transport}`] = count;
    stats.allocations += count;
  }
  stats.permissions = live.permissions;
  stats.channels = live.channels;
  stats.uptimeSeconds = Math.round(process.uptime());
  return stats;
}
