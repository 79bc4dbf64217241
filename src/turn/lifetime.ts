/** RFC 8656 §7.2 / §7.3: the lifetime the server grants for a requested one, in seconds. */
import type { EngineConfig } from './engine-context.js';

export function grantedLifetime(config: EngineConfig, requested: number | undefined): number {
  if (requested === undefined) return config.defaultLifetimeSeconds;
  const capped = Math.min(requested, config.maxLifetimeSeconds);
  return Math.max(capped, config.defaultLifetimeSeconds);
}
