/**
 * Options that relay workers cannot honour yet: each needs state shared across workers
 * (docs/relay-workers.md, "Plan"). Refused at start rather than served per worker, which
 * would silently multiply a limit or show one worker's share. Remove a line when its
 * cross-worker plumbing lands.
 */
import type { ServerOptions } from '../config/server-options.js';

const NOT_YET_ACROSS_WORKERS: readonly { readonly option: string; readonly isSet: (o: ServerOptions) => boolean }[] = [
  // RFC 6062: a client's ConnectionBind connection may reach another worker than its allocation.
  { option: 'TCP relaying (set no-tcp-relay)', isSet: (o) => !o.noTcpRelay },
];

/** Every option set in `options` that cannot yet be combined with relayThreads > 1. */
export function optionsWorkersCannotServe(options: ServerOptions): string[] {
  return NOT_YET_ACROSS_WORKERS.filter((entry) => entry.isSet(options)).map((entry) => entry.option);
}

/** Throws naming every option set that cannot yet be combined with relayThreads > 1. */
export function refuseWhatWorkersCannotServe(options: ServerOptions): void {
  const refused = optionsWorkersCannotServe(options);
  if (refused.length === 0) return;
  throw new RangeError(`relayThreads > 1 cannot yet be combined with: ${refused.join(', ')}`);
}
