// redis-statsdb for a fleet: two Turnpike nodes (127.0.0.1, 127.0.0.2) publish their allocations
// to one Redis as coturn does, in coturn's channels and messages; coturn's own turnserver runs the
// same uclient load against a Redis of its own, and an application subscribed to either sees
// the same message shapes and the same peer traffic. Redis going away never stops the relay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisConnection } from '../../src/config/redis-connection.js';
import type { StaticUser } from '../../src/config/server-options.js';
import type { TurnServer } from '../../src/server.js';
import { longTermKey } from '../../src/stun/index.js';
import { runAdminCommand } from '../../src/control/admin-cli.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { runUclient, startCoturnOnUserDb, startPeer, type PeerHandle } from '../support/coturn-tools.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { recordingLogger } from '../support/recording-logger.js';
import { startRedisServer } from '../support/redis-server.js';
import { settledPeerTotals as settledTotals, subscribeToAllocations, type Published } from '../support/redis-subscriber.js';
import { REALM } from '../support/server-options.js';

const PASSWORD = 'fleet-pass';
const LOAD = { noRtcp: true, clients: 2, messages: 20, length: 120, password: PASSWORD, timeoutMs: 30_000 };
const RELAYED = LOAD.clients * LOAD.messages;
const cleanups = cleanupAfterEach();

const userOf = (name: string): StaticUser => ({ name, key: longTermKey(name, REALM, PASSWORD) });
const statsDbAt = (port: number): RedisConnection => ({ host: '127.0.0.1', port, db: 0, username: undefined, password: undefined, connectTimeoutSeconds: 0 });

/** A message with its user, id, numbers and addresses taken out: what an application parses. */
const shapeOf = (m: Published): string =>
  `${m.channel.replace(/\/user\/[^/]+\/allocation\/\d{18}\//, '/user/U/allocation/ID/')} ${m.message.replace(/\d+/g, 'N')}`;
const shapesOf = (messages: readonly Published[]): string[] => [...new Set(messages.map(shapeOf))].sort();
const settledPeerTotals = (sub: Parameters<typeof settledTotals>[0], user: string) => settledTotals(sub, user, RELAYED);

describe('redis-statsdb', () => {
  let peer: PeerHandle;
  beforeAll(async () => {
    peer = await startPeer();
  });
  afterAll(async () => {
    await peer.stop();
  });

  it('two Turnpike nodes publish new, refreshed and deleted with their users and traffic, as coturn does', async () => {
    const fleetRedis = await startRedisServer(cleanups);
    const coturnRedis = await startRedisServer(cleanups);
    const fleet = await subscribeToAllocations(cleanups, fleetRedis.port);
    const reference = await subscribeToAllocations(cleanups, coturnRedis.port);

    const coturn = await startCoturnOnUserDb('127.0.0.1', REALM, ['--user', `carol:${PASSWORD}`, '--redis-statsdb', `ip=127.0.0.1 port=${coturnRedis.port}`]);
    cleanups.push(() => coturn.stop());
    const nodes = [
      { user: 'alice', host: '127.0.0.1' },
      { user: 'bob', host: '127.0.0.2' },
    ];
    const servers: TurnServer[] = [];
    for (const n of nodes) {
      servers.push(await startInProcessServer(cleanups, { listeningIps: [n.host], users: [userOf(n.user)], redisStatsDb: statsDbAt(fleetRedis.port) }));
    }

    const runs = [
      { user: 'carol', host: '127.0.0.1', port: coturn.port },
      ...nodes.map((n, i) => ({ ...n, port: servers[i]!.udpAddresses[0]!.port })),
    ];
    for (const run of runs) {
      const r = await runUclient({ ...LOAD, host: run.host, port: run.port, user: run.user, peerAddr: peer.host, peerPort: peer.port });
      expect(r.exitCode, `${run.user}: ${r.output}`).toBe(0);
      expect(r.received, run.user).toBe(RELAYED);
    }

    // Every relayed packet, to the peer and back, in the deleted allocations' totals, as coturn counts them.
    const coturnTotals = await settledPeerTotals(reference, 'carol');
    expect(coturnTotals).toEqual({ rcvp: RELAYED, rcvb: RELAYED * LOAD.length, sentp: RELAYED, sentb: RELAYED * LOAD.length });
    for (const n of nodes) expect(await settledPeerTotals(fleet, n.user), n.user).toEqual(coturnTotals);

    // The same channels and messages as coturn's, per node, with the node's own address in local=.
    for (const [i, n] of nodes.entries()) {
      const own = fleet.messages.filter((m) => m.channel.startsWith(`turn/realm/${REALM}/user/${n.user}/allocation/`));
      expect(shapesOf(own), n.user).toEqual(shapesOf(reference.messages));
      const local = `local=${n.host}:${servers[i]!.udpAddresses[0]!.port},`;
      expect(own.filter((m) => m.message.startsWith('new ')).every((m) => m.message.includes(local)), n.user).toBe(true);
    }

    // The status keys: the allocations still alive (uclient leaves one unused per client), none deleted, no expiry (as coturn).
    const deleted = new Set(fleet.messages.filter((m) => m.message === 'deleted').map((m) => m.channel));
    const keys = await fleetRedis.client.keys('turn/realm/*/user/*/allocation/*/status');
    expect(keys.length).toBeGreaterThan(0);
    expect(new Set(keys.map((k) => k.split('/')[4]))).toEqual(new Set(['alice', 'bob']));
    for (const key of keys) {
      expect(deleted.has(key), key).toBe(false);
      expect(await fleetRedis.client.get(key)).toMatch(/^(new|refreshed) lifetime=\d+, type=UDP, local=127\.0\.0\.[12]:\d+, remote=127\.0\.0\.1:\d+, ssl=NONE, cipher=NONE$/);
      expect(await fleetRedis.client.ttl(key)).toBe(-1);
    }

    // turnpike admin sessions --fleet: every node's live allocations, one line each, from those keys.
    const lines: string[] = [];
    const io = { out: (l: string) => void lines.push(l), err: (l: string) => void lines.push(l) };
    expect(await runAdminCommand(['sessions', '--fleet', '--redis-statsdb', `ip=127.0.0.1 port=${fleetRedis.port}`], io), lines.join('\n')).toBe(0);
    expect(lines[0]).toMatch(/^NODE +ID +USER +REALM +TRANSPORT +CLIENT +LIFETIME +STATUS$/);
    expect(lines).toHaveLength(keys.length + 1);
    for (const [i, n] of nodes.entries()) {
      const node = `${n.host}:${servers[i]!.udpAddresses[0]!.port}`;
      expect(lines.filter((l) => l.startsWith(`${node} `) && l.includes(` ${n.user} `)), node).toHaveLength(keys.filter((k) => k.includes(`/user/${n.user}/`)).length);
    }
  });

  it('with relay-threads 2, the workers publish their allocations', async () => {
    const redis = await startRedisServer(cleanups);
    const sub = await subscribeToAllocations(cleanups, redis.port);
    const server = await startInProcessServer(cleanups, { users: [userOf('erin')], relayThreads: 2, redisStatsDb: statsDbAt(redis.port) });
    const r = await runUclient({ ...LOAD, host: '127.0.0.1', port: server.udpAddresses[0]!.port, user: 'erin', peerAddr: peer.host, peerPort: peer.port });
    expect(r.received, r.output).toBe(RELAYED);
    expect(await settledPeerTotals(sub, 'erin')).toEqual({ rcvp: RELAYED, rcvb: RELAYED * LOAD.length, sentp: RELAYED, sentb: RELAYED * LOAD.length });
  });

  it('relays on while Redis is down, logs the outage once and its end once, and publishes again', async () => {
    let redis = await startRedisServer(cleanups);
    const port = redis.port;
    const { logger, lines } = recordingLogger();
    const server = await startInProcessServer(cleanups, { users: [userOf('dave')], redisStatsDb: statsDbAt(port) }, logger);
    const load = { ...LOAD, host: '127.0.0.1', port: server.udpAddresses[0]!.port, user: 'dave', peerAddr: peer.host, peerPort: peer.port };
    const outage = () => lines.filter((l) => l.includes('Redis statistics database') && l.includes('is unreachable'));
    const back = () => lines.filter((l) => l.includes('Redis statistics database') && l.includes('is reachable again'));

    // Stopped mid-run: the allocations made while it was up relay on, and new ones are made.
    const first = await subscribeToAllocations(cleanups, port);
    const running = runUclient({ ...load, messages: 60, intervalMs: 50 });
    await first.waitFor(/\/status$/, /^refreshed /);
    await redis.stop();
    const during = await running;
    expect(during.exitCode, during.output).toBe(0);
    expect(during.received).toBe(LOAD.clients * 60);
    const after = await runUclient(load);
    expect(after.exitCode, after.output).toBe(0);
    expect(after.received).toBe(RELAYED);
    expect(outage()).toHaveLength(1);

    redis = await startRedisServer(cleanups, port);
    for (let i = 0; i < 100 && back().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(back()).toHaveLength(1);
    const sub = await subscribeToAllocations(cleanups, port);
    const r = await runUclient(load);
    expect(r.received).toBe(RELAYED);
    await sub.waitFor(new RegExp(`^turn/realm/${REALM}/user/dave/allocation/\\d{18}/status$`), /^deleted$/);
    expect(outage()).toHaveLength(1);
  });
});
