/** The host's own addresses, for listening on each one when no `listening-ip` is given. */
import { networkInterfaces } from 'node:os';

export function localAddresses(): string[] {
  const found: string[] = [];
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      // Link-local IPv6 needs a scope id to be usable; coturn skips those too.
      if (entry.family === 'IPv6' && entry.address.toLowerCase().startsWith('fe80:')) continue;
      found.push(entry.address);
    }
  }
  return found;
}
