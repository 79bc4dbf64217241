/** `redis-statsdb`: coturn's Redis connection string, parsed as `redis-userdb`'s. */
import { ConfigError, located } from './errors.js';
import { parseRedisConnection, type RedisConnection } from './redis-connection.js';
import type { Settings } from './settings.js';

export function redisStatsDbOption(s: Settings, warnings: string[], errors: ConfigError[]): RedisConnection | undefined {
  const setting = s.last('redis-statsdb');
  if (setting === undefined) return undefined;
  const parsed = parseRedisConnection(setting.value as string);
  for (const w of parsed.warnings) warnings.push(located(setting.origin, w));
  if (parsed.error !== undefined) errors.push(new ConfigError(setting.origin, 'redis-statsdb', parsed.error));
  return parsed.connection;
}
