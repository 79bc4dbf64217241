/**
 * An ioredis client for a coturn connection string, as redis-userdb and redis-statsdb use it:
 * commands fail at once while disconnected (never a queued wait: the caller has a fallback)
 * and the client reconnects by itself.
 */
import { Redis } from 'ioredis';
import type { RedisConnection } from '../config/redis-connection.js';

export function newRedisClient(connection: RedisConnection): Redis {
  return new Redis({
    host: connection.host,
    port: connection.port,
    db: connection.db,
    username: connection.username,
    password: connection.password,
    connectTimeout: connection.connectTimeoutSeconds > 0 ? connection.connectTimeoutSeconds * 1000 : 10_000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    lazyConnect: true,
  });
}

/**
 * Connects once, for a command-line tool: rejects with why (connect() itself says only
 * "Connection is closed"; the error event has the reason), and stops the reconnecting.
 */
export async function connectOnce(client: Redis): Promise<void> {
  let cause: Error | undefined;
  client.on('error', (error: Error) => (cause ??= error));
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw cause ?? error;
  }
}
