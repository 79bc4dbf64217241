/**
 * `turnpike admin sessions --fleet`: the allocations of every node (Turnpike's and coturn's)
 * that publishes to one redis-statsdb, read from its status keys
 * (`turn/realm/<realm>/user/<user>/allocation/<id>/status`, or `turn/user/…` without a realm).
 */
import { AdminError } from '../admin/errors.js';
import { loadConfig, ConfigError } from '../config/index.js';
import { describeRedisConnection, parseRedisConnection, type RedisConnection } from '../config/redis-connection.js';
import { connectOnce, newRedisClient } from '../auth/redis-client.js';
import { renderTable } from './admin-output.js';

export interface FleetSession {
  readonly id: string;
  readonly user: string;
  readonly realm: string;
  /** "new" or "refreshed". */
  readonly status: string;
  readonly lifetime: string;
  readonly type: string;
  /** The node's listening address the client reached: which node holds it. */
  readonly local: string;
  readonly remote: string;
}

/** `--redis-statsdb CONN`, else the `redis-statsdb` of the server's turnserver.conf (`-c FILE` or the search path). */
export function fleetStatsDb(given: string | undefined, configFile: string | undefined): RedisConnection {
  if (given !== undefined) {
    const parsed = parseRedisConnection(given);
    if (parsed.connection === undefined) throw new AdminError(`--redis-statsdb: ${parsed.error}`);
    return parsed.connection;
  }
  try {
    const loaded = loadConfig(configFile === undefined ? [] : ['-c', configFile]);
    if (loaded.options.redisStatsDb) return loaded.options.redisStatsDb;
    throw new AdminError(`${loaded.configFile ?? 'the configuration'} sets no redis-statsdb: give --redis-statsdb CONN`);
  } catch (error) {
    if (error instanceof ConfigError) throw new AdminError(`configuration: ${error.message}`);
    throw error;
  }
}

const KEY = /^turn\/(?:realm\/([^/]*)\/)?user\/([^/]*)\/allocation\/(\d+)\/status$/;
const VALUE = /^(\w+) lifetime=(\d+), type=([^,]*), local=([^,]*), remote=([^,]*)/;

/** Every live allocation in the status keys, by node then id; `user`: only that user's. */
export async function readFleetSessions(connection: RedisConnection, user: string | undefined): Promise<FleetSession[]> {
  const where = describeRedisConnection(connection);
  const client = newRedisClient(connection);
  try {
    await connectOnce(client).catch((error: Error) => {
      throw new AdminError(`Redis statistics database ${where}: cannot connect: ${error.message}`);
    });
    const keys = (await client.keys('turn/*/allocation/*/status')).filter((k) => KEY.test(k));
    const values = keys.length > 0 ? await client.mget(...keys) : [];
    const sessions: FleetSession[] = [];
    keys.forEach((key, i) => {
      const [, realm = '', keyUser = '', id = ''] = KEY.exec(key) ?? [];
      const value = VALUE.exec(values[i] ?? '');
      if (!value || (user !== undefined && keyUser !== user)) return;
      sessions.push({ id, user: keyUser, realm, status: value[1]!, lifetime: value[2]!, type: value[3]!, local: value[4]!, remote: value[5]! });
    });
    return sessions.sort((a, b) => a.local.localeCompare(b.local) || a.id.localeCompare(b.id));
  } finally {
    client.disconnect();
  }
}

export function fleetSessionsTable(sessions: readonly FleetSession[]): string[] {
  if (sessions.length === 0) return ['no sessions'];
  return renderTable(
    ['NODE', 'ID', 'USER', 'REALM', 'TRANSPORT', 'CLIENT', 'LIFETIME', 'STATUS'],
    sessions.map((s) => [s.local, s.id, s.user, s.realm, s.type, s.remote, `${s.lifetime}s`, s.status]),
  );
}
