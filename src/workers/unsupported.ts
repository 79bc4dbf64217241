/**
 * Options that relay workers cannot honour yet: each needs state shared across workers
 * (docs/relay-workers.md, "Plan"). Refused at start rather than served per worker, which
 * would silently multiply a limit or show one worker's share. Remove a line when its
 * cross-worker plumbing lands.
 */
import type { ServerOptions } from '../config/server-options.js';

const NOT_YET_ACROSS_WORKERS: readonly { readonly option: string; readonly isSet: (o: ServerOptions) => boolean }[] = [
  // Counters and sessions live in each worker: no totals, listing or disconnect across them yet.
  { option: 'prometheus', isSet: (o) => o.metrics !== undefined },
  { option: 'admin-socket / admin-port', isSet: (o) => o.admin !== undefined },
  { option: 'self-test-page', isSet: (o) => o.selfTest !== undefined },
];

/** Throws naming every option set that cannot yet be combined with relayThreads > 1. */
export function refuseWhatWorkersCannotServe(options: ServerOptions): void {
  const refused = NOT_YET_ACROSS_WORKERS.filter((entry) => entry.isSet(options)).map((entry) => entry.option);
  if (refused.length === 0) return;
  throw new RangeError(`relayThreads > 1 cannot yet be combined with: ${refused.join(', ')}`);
}
