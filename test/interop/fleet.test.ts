// A fleet as operators run one (and docker/fleet/ sets up): three Turnpike processes on
// 127.0.0.1, .2 and .3, each with its own listening and relay address, sharing one user database
// (PostgreSQL, MariaDB or Redis, written with Turnpike's turnadmin -e / -M / -N), one
// alternate-server list and one redis-statsdb. Users and REST secrets work on every node at
// once; a node drains to the others on the list; the database may stop and come back under a
// running fleet. (coturn's turnserver on the same PostgreSQL database: psql-userdb.test.ts.)
import { describe, expect, it } from 'vitest';
import { restPassword } from '../../src/auth/rest-api.js';
import { AttributeType, StunClass, readAddress, readErrorCode, type StunMessage, type TransportAddress } from '../../src/stun/index.js';
import { eventually } from '../support/allocations.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { runUclient } from '../support/coturn-tools.js';
import { fleetFixture } from '../support/fleet-userdb.js';
import { startMysqlServer } from '../support/mysql-server.js';
import { startPgServer } from '../support/pg-server.js';
import { freePortRange, freeUdpTcpPort } from '../support/ports.js';
import { startRedisServer } from '../support/redis-server.js';
import { settledPeerTotals, subscribeToAllocations } from '../support/redis-subscriber.js';
import { UdpTestClient, type Credentials } from '../support/turn-client.js';
import { startTurnpikeFromFile, type TurnpikeFromFile } from '../support/turnpike-process.js';

const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'] as const;
const REALM = 'fleet.example';
const DORA: Credentials = { username: 'dora', password: 'explorer' };
const cleanups = cleanupAfterEach();
// PostgreSQL, coturn's echo peer and turnadmin's folder, for the whole file.
const fleet = fleetFixture(startPgServer);
const turnadmin = fleet.turnpike;

/** One user database as the fleet shares it: turnadmin's flag and string, and the nodes' line. */
interface SharedDb {
  readonly flag: '-e' | '-M' | '-N';
  readonly conn: string;
  readonly confLine: string;
}

const postgres = async (): Promise<SharedDb> => {
  const conn = fleet.db().keyValue(await fleet.db().newDatabase());
  return { flag: '-e', conn, confLine: `psql-userdb="${conn}"` };
};

/**
 * The nodes, started in parallel from turnserver.conf files as docker/fleet/ has them: the same
 * alternate-server list on every node, naming all three (a node on the list redirects nobody
 * until it drains). Stopped (by pid) after the test.
 */
async function startFleet(db: SharedDb, extra: readonly string[] = []): Promise<TurnpikeFromFile[]> {
  const ports = await Promise.all(HOSTS.map((host) => freeUdpTcpPort(host)));
  const alternates = HOSTS.map((host, i) => `alternate-server=${host}:${ports[i]}`);
  return Promise.all(HOSTS.map(async (host, i) => {
    const minPort = await freePortRange(host, 40);
    const lines = [
      `listening-ip=${host}`, `listening-port=${ports[i]}`, `relay-ip=${host}`, `min-port=${minPort}`, `max-port=${minPort + 39}`,
      `realm=${REALM}`, 'lt-cred-mech', db.confLine, ...alternates, 'allow-loopback-peers', 'no-tcp', 'no-tls', 'no-dtls', ...extra,
    ];
    return startTurnpikeFromFile(cleanups, lines, host, ports[i]!);
  }));
}

const addressOf = ({ server }: TurnpikeFromFile): TransportAddress => ({ family: 4, address: server.host, port: server.port });
const code = (m: StunMessage) => readErrorCode(m, AttributeType.ErrorCode)?.code;

async function clientOn(node: TransportAddress, credentials: Credentials): Promise<UdpTestClient> {
  const c = await UdpTestClient.open(node, credentials);
  cleanups.push(() => c.close());
  return c;
}

/** A REST API name valid for an hour, and its password under `secret`. */
function restCredentials(secret: string): Credentials {
  const username = `${Math.floor(Date.now() / 1000) + 3600}:web-user`;
  return { username, password: restPassword(secret, username) };
}

/** A relay to coturn's echo peer on channel 0x4001, as a call keeps one. */
async function echoRelay(node: TransportAddress, credentials: Credentials) {
  const client = await clientOn(node, credentials);
  expect((await client.allocate()).cls).toBe(StunClass.SuccessResponse);
  expect((await client.channelBind(0x4001, { family: 4, address: fleet.peer().host, port: fleet.peer().port })).cls).toBe(StunClass.SuccessResponse);
  /** Sends `count` messages one after another; how many came back from the peer, each as sent. */
  const echo = async (count: number, label: string): Promise<number> => {
    let back = 0;
    for (let i = 0; i < count; i++) {
      const text = `${label} ${i}`;
      client.sendChannelData(0x4001, Buffer.from(text));
      const reply = await client.nextDatagram(3000).catch(() => undefined);
      if (reply?.data.subarray(4).toString() === text) back++;
    }
    return back;
  };
  return { client, echo };
}

const engines: { name: string; start: () => Promise<SharedDb> }[] = [
  { name: 'PostgreSQL (turnadmin -e)', start: postgres },
  {
    name: 'MariaDB (turnadmin -M)',
    start: async () => {
      const mysql = await startMysqlServer();
      cleanups.push(() => mysql.remove());
      const conn = mysql.connectionString(await mysql.newDatabase());
      return { flag: '-M', conn, confLine: `mysql-userdb="${conn}"` };
    },
  },
  {
    name: 'Redis (turnadmin -N)',
    start: async () => {
      const redis = await startRedisServer(cleanups);
      const conn = `ip=127.0.0.1 port=${redis.port} dbname=0`;
      return { flag: '-N', conn, confLine: `redis-userdb="${conn}"` };
    },
  },
];

describe.each(engines)('three nodes on one user database: $name', ({ start }) => {
  it('a user added with turnadmin relays through every node at once; a REST secret works on all three, and once removed on none', async () => {
    const db = await start();
    await turnadmin('-a', db.flag, db.conn, '-u', 'fleet-user', '-r', REALM, '-p', 'fleet-pass');
    const nodes = await startFleet(db, ['use-auth-secret']);

    const runs = await Promise.all(nodes.map(({ server }) =>
      runUclient({ host: server.host, port: server.port, user: 'fleet-user', password: 'fleet-pass', noRtcp: true, clients: 2, messages: 20, peerAddr: fleet.peer().host, peerPort: fleet.peer().port, timeoutMs: 60_000 })));
    for (const [i, r] of runs.entries()) {
      expect(r.exitCode, `node ${HOSTS[i]}: ${r.output}\n--- node log ---\n${nodes[i]!.server.proc.output}`).toBe(0);
      expect(r.received, HOSTS[i]).toBe(40);
      expect(r.lostPackets, HOSTS[i]).toBe(0);
    }

    const allocatesWith = async (secret: string) =>
      Promise.all(nodes.map(async (n) => (await clientOn(addressOf(n), restCredentials(secret))).allocate()));
    expect((await allocatesWith('rotated-in')).map(code)).toEqual([401, 401, 401]);
    await turnadmin('-s', 'rotated-in', '-r', REALM, db.flag, db.conn);
    // Secrets are read per lookup (only realm options are cached, REALM_OPTIONS_REFRESH_MS):
    // at once on every node, no restart.
    expect((await allocatesWith('rotated-in')).map((m) => m.cls)).toEqual(Array(3).fill(StunClass.SuccessResponse));
    await turnadmin('-X', 'rotated-in', '-r', REALM, db.flag, db.conn);
    const refusedEverywhere = async () => (await allocatesWith('rotated-in')).every((m) => code(m) === 401);
    expect(await eventually(refusedEverywhere, 10_000)).toBe(true);
  }, 240_000);
});

describe('a fleet on PostgreSQL', () => {
  it('drains node 1 to nodes 2 and 3: newcomers get 300 naming them and allocate there, its relay ends with 0 lost, then it exits 0', async () => {
    const db = await postgres();
    await turnadmin('-a', db.flag, db.conn, '-u', DORA.username, '-r', REALM, '-p', DORA.password);
    const [first, ...others] = await startFleet(db);
    const running = await echoRelay(addressOf(first!), DORA);
    expect(await running.echo(5, 'before')).toBe(5);

    // Every node is on the fleet's alternate-server list: draining, node 1 sends newcomers to the others.
    const alternates = others.map(addressOf);
    process.kill(first!.server.pid, 'SIGUSR1');
    await first!.server.proc.waitForOutput(/draining: no new allocations; 1 still served/, 10_000);

    const landedOn: TransportAddress[] = [];
    for (const label of ['newcomer 1', 'newcomer 2']) {
      const redirected = await (await clientOn(addressOf(first!), DORA)).allocate();
      expect(code(redirected), label).toBe(300);
      const alternate = readAddress(redirected, AttributeType.AlternateServer)!;
      expect(alternates, label).toContainEqual(alternate);
      const there = await echoRelay(alternate, DORA);
      expect(await there.echo(5, label), label).toBe(5);
      landedOn.push(alternate);
    }
    // The list is taken in turn: both other nodes get newcomers.
    expect(new Set(landedOn.map((a) => a.address))).toEqual(new Set([HOSTS[1], HOSTS[2]]));

    expect(await running.echo(20, 'while draining')).toBe(20);
    expect(first!.server.proc.exitInfo).toBeNull();
    expect((await running.client.refresh(0)).cls).toBe(StunClass.SuccessResponse);
    expect(await first!.server.proc.exited).toEqual({ code: 0, signal: null });
    expect(first!.server.proc.output).toMatch(/drained: stopping/);
  }, 120_000);

  it('keeps relaying and allocating known users while PostgreSQL is stopped, and says so once each way', async () => {
    const db = await postgres();
    await turnadmin('-a', db.flag, db.conn, '-u', DORA.username, '-r', REALM, '-p', DORA.password);
    // relay-threads as by default (one a CPU): what one worker looked up, every worker answers during the outage.
    const nodes = await startFleet(db);
    const running = await echoRelay(addressOf(nodes[1]!), DORA);
    expect(await running.echo(5, 'before')).toBe(5);
    // Every node has answered dora once: that is what it keeps.
    for (const n of nodes) expect((await (await clientOn(addressOf(n), DORA)).allocate()).cls).toBe(StunClass.SuccessResponse);

    const logOf = (n: TurnpikeFromFile, re: RegExp) => n.server.proc.output.split('\n').filter((l) => re.test(l));
    const unreachable = /PostgreSQL user database .* is unreachable/;
    const back = /PostgreSQL user database .* is reachable again/;
    await fleet.db().stop();
    try {
      expect(await running.echo(20, 'while the database is down')).toBe(20);
      for (const n of nodes) {
        const known = await (await clientOn(addressOf(n), DORA)).allocate();
        expect(known.cls, `${n.server.host}: ${code(known)}\n${n.server.proc.output}`).toBe(StunClass.SuccessResponse);
        expect(code(await (await clientOn(addressOf(n), { ...DORA, password: 'wrong' })).allocate()), n.server.host).toBe(401);
      }
      for (const n of nodes) expect(logOf(n, unreachable), `${n.server.host}:\n${n.server.proc.output}`).toHaveLength(1);
    } finally {
      await fleet.db().restart();
    }
    for (const n of nodes) {
      expect(await eventually(async () => logOf(n, back).length > 0, 15_000), `${n.server.host}:\n${n.server.proc.output}`).toBe(true);
    }
    await turnadmin('-a', db.flag, db.conn, '-u', 'eve', '-r', REALM, '-p', 'later');
    for (const n of nodes) {
      expect((await (await clientOn(addressOf(n), { username: 'eve', password: 'later' })).allocate()).cls, n.server.host).toBe(StunClass.SuccessResponse);
      expect(logOf(n, unreachable), `${n.server.host}:\n${n.server.proc.output}`).toHaveLength(1);
      expect(logOf(n, back), `${n.server.host}:\n${n.server.proc.output}`).toHaveLength(1);
    }
    expect(await running.echo(5, 'after')).toBe(5);
  }, 120_000);

  it('publishes every node’s allocations to one redis-statsdb: new, refreshed, deleted, with their users and byte totals', async () => {
    const db = await postgres();
    const redis = await startRedisServer(cleanups);
    const sub = await subscribeToAllocations(cleanups, redis.port);
    const users = ['alice', 'bob', 'carol'];
    for (const user of users) await turnadmin('-a', db.flag, db.conn, '-u', user, '-r', REALM, '-p', `${user}-pass`);
    const nodes = await startFleet(db, [`redis-statsdb="ip=127.0.0.1 port=${redis.port} dbname=0"`]);

    const load = { noRtcp: true, clients: 2, messages: 20, length: 120, peerAddr: fleet.peer().host, peerPort: fleet.peer().port, timeoutMs: 60_000 };
    const relayed = load.clients * load.messages;
    const runs = await Promise.all(nodes.map(({ server }, i) =>
      runUclient({ ...load, host: server.host, port: server.port, user: users[i], password: `${users[i]}-pass` })));
    for (const [i, r] of runs.entries()) {
      expect(r.exitCode, `${users[i]}: ${r.output}`).toBe(0);
      expect(r.received, users[i]).toBe(relayed);
    }

    for (const [i, user] of users.entries()) {
      const channel = new RegExp(`^turn/realm/${REALM.replace('.', '\\.')}/user/${user}/allocation/\\d+/status$`);
      const created = await sub.waitFor(channel, /^new /);
      expect(created.message, user).toContain(`local=${HOSTS[i]}:${nodes[i]!.server.port},`);
      await sub.waitFor(channel, /^refreshed /);
      await sub.waitFor(channel, /^deleted$/);
      expect(await settledPeerTotals(sub, user, relayed), user).toEqual({ rcvp: relayed, rcvb: relayed * load.length, sentp: relayed, sentb: relayed * load.length });
    }
  }, 120_000);
});
