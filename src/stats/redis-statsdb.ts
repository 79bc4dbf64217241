/**
 * coturn's Redis statistics database (`redis-statsdb`, turndb/schema.stats.redis), with the
 * channels and messages of coturn 4.6.1 (ns_ioalib_engine_impl.c), so that applications written
 * against coturn's events work unchanged. With a realm (Turnpike always has one) every key is
 *
 *   turn/realm/<realm>/user/<user>/allocation/<id>/status   SET (no expiry, as coturn) and PUBLISH
 *       "new lifetime=600, type=UDP, local=…, remote=…, ssl=NONE, cipher=NONE", "refreshed …";
 *       on the end: DEL and PUBLISH "deleted"
 *   …/traffic, …/traffic/peer              PUBLISH "rcvp=…, rcvb=…, sentp=…, sentb=…" (since the last one)
 *   …/total_traffic, …/total_traffic/peer  PUBLISH the same for the whole allocation, after "deleted"
 *
 * <id> is the allocation id in 18 digits. coturn publishes traffic every 4096 packets from the
 * packet path; Turnpike reads the allocation's counters on a timer instead, so the relay loop
 * pays nothing. Turnpike counts relayed data (payloads), not STUN requests: the peer messages
 * carry coturn's numbers, the client ones leave out the control traffic coturn adds in.
 *
 * Publishing never waits: commands go out on one connection, at most MAX_IN_FLIGHT unanswered
 * (past that, and while Redis is down, reports are dropped); an outage is logged once, and its end.
 * With relay-threads, each worker publishes its own allocations on its own connection.
 */
import type { Redis } from 'ioredis';
import { newRedisClient } from '../auth/redis-client.js';
import { Reachability, delay, type RemoteUserDbLog } from '../auth/remote-userdb.js';
import { describeRedisConnection, type RedisConnection } from '../config/redis-connection.js';
import type { Allocation } from '../turn/allocation.js';
import type { AllocationReports } from '../turn/allocation-reports.js';
import { statusMessage, trafficMessage, type Traffic } from './statsdb-messages.js';

export const MAX_IN_FLIGHT = 10_000;
/** coturn reports traffic each time a session's packets since the last report reach a multiple of 4096. */
export const TRAFFIC_REPORT_PACKETS = 4096;
const TRAFFIC_SCAN_MS = 1000;
const CLOSE_WAIT_MS = 1000;

interface Reported {
  /** The counters at the last traffic report. */
  last: Traffic;
}

export class RedisStatsDb implements AllocationReports {
  private readonly client: Redis;
  private readonly reachability: Reachability;
  private readonly live = new Map<Allocation, Reported>();
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Reports dropped because Redis was down or too slow. */
  dropped = 0;

  constructor(connection: RedisConnection, private readonly log: RemoteUserDbLog) {
    const where = describeRedisConnection(connection);
    this.reachability = new Reachability(log, `Redis statistics database ${where}`, 'allocation reports are dropped until it is back');
    this.client = newRedisClient(connection);
    this.client.on('error', (error: Error) => this.reachability.down(error.message));
    this.client.on('ready', () => this.reachability.up());
    this.log.info(`Redis statistics database: ${where}`);
  }

  /** Starts connecting (never waits: the server does not depend on it) and the traffic timer. */
  start(): void {
    this.client.connect().catch((error: unknown) => this.reachability.down(error instanceof Error ? error.message : String(error)));
    this.timer = setInterval(() => this.reportBusyTraffic(), TRAFFIC_SCAN_MS);
    this.timer.unref();
  }

  set(allocation: Allocation, lifetimeSeconds: number, refreshed: boolean): void {
    if (!this.live.has(allocation)) this.live.set(allocation, { last: ZERO });
    const key = keyOf(allocation, 'status');
    const message = statusMessage(allocation, lifetimeSeconds, refreshed);
    this.send(() => this.client.set(key, message));
    this.send(() => this.client.publish(key, message));
  }

  deleted(allocation: Allocation): void {
    const reported = this.live.get(allocation);
    this.live.delete(allocation);
    const total = trafficOf(allocation);
    // As coturn on the end of a session: the traffic since the last report, then the deletion and the totals.
    this.publishTraffic(allocation, 'traffic', since(total, reported?.last ?? ZERO));
    const status = keyOf(allocation, 'status');
    this.send(() => this.client.del(status));
    this.send(() => this.client.publish(status, 'deleted'));
    this.publishTraffic(allocation, 'total_traffic', total);
  }

  async close(): Promise<void> {
    if (this.reachability.closed) return;
    clearInterval(this.timer);
    // The last reports (the deletions on shutdown) go out first, for a bounded time.
    if (this.client.status === 'ready') await Promise.race([this.client.quit().catch(() => {}), delay(CLOSE_WAIT_MS)]);
    this.reachability.closed = true;
    this.client.disconnect();
  }

  /** Every allocation with TRAFFIC_REPORT_PACKETS more packets since its last report gets a traffic report. */
  private reportBusyTraffic(): void {
    for (const [allocation, reported] of this.live) {
      const now = trafficOf(allocation);
      const delta = since(now, reported.last);
      if (delta.packetsFromClient + delta.packetsToClient < TRAFFIC_REPORT_PACKETS) continue;
      reported.last = now;
      this.publishTraffic(allocation, 'traffic', delta);
    }
  }

  private publishTraffic(allocation: Allocation, name: 'traffic' | 'total_traffic', traffic: Traffic): void {
    const key = keyOf(allocation, name);
    this.send(() => this.client.publish(key, trafficMessage(traffic, 'client')));
    this.send(() => this.client.publish(`${key}/peer`, trafficMessage(traffic, 'peer')));
  }

  /** Fire and forget, bounded: a report that cannot go out now is dropped, never queued. */
  private send(command: () => Promise<unknown>): void {
    if (this.reachability.closed) return;
    if (this.client.status !== 'ready' || this.inFlight >= MAX_IN_FLIGHT) {
      this.dropped++;
      if (this.inFlight >= MAX_IN_FLIGHT) this.reachability.down(`${MAX_IN_FLIGHT} reports unanswered`);
      return;
    }
    this.inFlight++;
    command().then(
      () => {
        this.inFlight--;
        this.reachability.up();
      },
      (error: unknown) => {
        this.inFlight--;
        this.dropped++;
        this.reachability.down(error instanceof Error ? error.message : String(error));
      },
    );
  }
}

const ZERO: Traffic = { packetsFromClient: 0, bytesFromClient: 0, packetsToClient: 0, bytesToClient: 0 };

function trafficOf(a: Allocation): Traffic {
  a.routes?.collect(); // what was relayed below JS (routed-channels.ts) too
  return { packetsFromClient: a.packetsFromClient, bytesFromClient: a.bytesFromClient, packetsToClient: a.packetsToClient, bytesToClient: a.bytesToClient };
}

function since(now: Traffic, last: Traffic): Traffic {
  return {
    packetsFromClient: now.packetsFromClient - last.packetsFromClient,
    bytesFromClient: now.bytesFromClient - last.bytesFromClient,
    packetsToClient: now.packetsToClient - last.packetsToClient,
    bytesToClient: now.bytesToClient - last.bytesToClient,
  };
}

/** coturn's key: under the realm when there is one, else under the user alone. */
export function keyOf(allocation: Allocation, what: string): string {
  const id = String(allocation.id).padStart(18, '0');
  const user = `user/${allocation.username}/allocation/${id}/${what}`;
  return allocation.realm !== '' ? `turn/realm/${allocation.realm}/${user}` : `turn/${user}`;
}
