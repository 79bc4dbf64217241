/** RFC 8656 §7.2 / §7.3: the lifetime the server grants for a requested one, in seconds. */
import type { EngineConfig } from './engine-context.js';

/** `tokenSecondsLeft`: what an OAuth client's access token has left, which no lifetime outlasts (as in coturn). */
export function grantedLifetime(config: EngineConfig, requested: number | undefined, tokenSecondsLeft?: number): number {
  const granted = requested === undefined ? config.defaultLifetimeSeconds : Math.max(Math.min(requested, config.maxLifetimeSeconds), config.defaultLifetimeSeconds);
  return tokenSecondsLeft === undefined ? granted : Math.min(granted, tokenSecondsLeft);
}
