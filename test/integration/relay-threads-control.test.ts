// relayThreads > 1 seen from the operator's side, through the library API: /metrics sums
// every worker, the admin interface lists and disconnects sessions on any worker, a drain
// waits for the last allocation on any worker, and the self-test page points at the shared
// listening ports. Workers run from dist/ (built by pretest).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MetricsOptions } from '../../src/config/server-options.js';
import { AdminClient } from '../../src/control/admin-client.js';
import { createServerControl, startAdminInterface } from '../../src/control/index.js';
import { Drain } from '../../src/lifecycle/drain.js';
import { createLogger } from '../../src/log/logger.js';
import { silentLogger } from '../../src/log/logger-interface.js';
import type { TurnServer } from '../../src/server.js';
import { AttributeType, StunClass, readAddress, readErrorCode } from '../../src/stun/index.js';
import { createTurnServer } from '../../src/server.js';
import { freePortRange } from '../support/ports.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { relayThreadHelpers } from '../support/relay-threads.js';
import { ALICE, REALM, testServerOptions } from '../support/server-options.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { UdpTestClient } from '../support/turn-client.js';
import { parseExposition, valueOf } from '../unit/metrics/exposition.js';

const cleanups = cleanupAfterEach();
const { startThreaded, echoPeer, clientOn, allocatedOn } = relayThreadHelpers(cleanups);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-threads-admin-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const METRICS: MetricsOptions = { address: '127.0.0.1', port: 0, path: '/metrics', usernameLabels: false };
const CLIENTS = 12;
const PACKETS = 4;
const SIZE = 30;

async function scrape(server: TurnServer): Promise<string> {
  const response = await fetch(server.metrics!.endpoint!.url);
  expect(response.status).toBe(200);
  return response.text();
}

/** The names of the server's own series (turn_*, turnpike_*), without process and Node ones. */
const serverMetricNames = (text: string): string[] =>
  [...parseExposition(text).types.keys()].filter((name) => name.startsWith('turn_') || name.startsWith('turnpike_')).sort();

/** Allocated UDP clients, each with a permission to `peer`, whose allocations both workers hold. */
async function clientsOnBothWorkers(server: TurnServer, count: number): Promise<UdpTestClient[]> {
  const clients = await Promise.all(Array.from({ length: count }, () => UdpTestClient.open(server.udpAddresses[0]!, ALICE)));
  for (const c of clients) cleanups.push(() => c.close());
  await Promise.all(clients.map((c) => c.allocateRelay()));
  const counts = await server.workerAllocationCounts();
  expect(counts.every((n) => n > 0), `allocations by worker: ${counts.join('/')}`).toBe(true);
  return clients;
}

async function echoRoundTrips(client: UdpTestClient, peer: Awaited<ReturnType<typeof echoPeer>>['address']): Promise<void> {
  expect((await client.createPermission(peer)).cls).toBe(StunClass.SuccessResponse);
  for (let i = 0; i < PACKETS; i++) {
    client.sendIndication(peer, Buffer.alloc(SIZE, i));
    await client.nextDatagram();
  }
}

describe('relayThreads 2: metrics', () => {
  it('scrapes the totals of both workers under the names relayThreads 1 uses, kept after allocations end', async () => {
    const server = await startThreaded({ metrics: METRICS });
    const peer = await echoPeer();
    const clients = await clientsOnBothWorkers(server, CLIENTS);
    await Promise.all(clients.map((c) => echoRoundTrips(c, peer.address)));

    let text = await scrape(server);
    expect(valueOf(text, 'turn_total_allocations', { type: 'UDP' })).toBe(CLIENTS);
    expect(valueOf(text, 'turnpike_allocations_total', { event: 'created' })).toBe(CLIENTS);
    expect(valueOf(text, 'turnpike_permissions')).toBe(CLIENTS);
    expect(valueOf(text, 'turn_total_traffic_rcvp')).toBe(CLIENTS * PACKETS);
    expect(valueOf(text, 'turn_total_traffic_rcvb')).toBe(CLIENTS * PACKETS * SIZE);
    expect(valueOf(text, 'turn_total_traffic_sentp')).toBe(CLIENTS * PACKETS);
    expect(valueOf(text, 'turn_traffic_rcvp', { realm: REALM })).toBe(CLIENTS * PACKETS);
    expect(valueOf(text, 'turnpike_relay_ports', { state: 'in_use' })).toBe(CLIENTS);

    // Half of them end: the gauges drop, the traffic and allocation totals stay.
    const ending = clients.slice(0, CLIENTS / 2);
    await Promise.all(ending.map((c) => c.refresh(0)));
    text = await scrape(server);
    expect(valueOf(text, 'turn_total_allocations', { type: 'UDP' })).toBe(CLIENTS / 2);
    expect(valueOf(text, 'turnpike_allocations_total', { event: 'ended' })).toBe(CLIENTS / 2);
    expect(valueOf(text, 'turn_total_traffic_rcvp')).toBe(CLIENTS * PACKETS);
    expect(valueOf(text, 'turn_total_traffic_peer_sentb')).toBe(CLIENTS * PACKETS * SIZE);

    const single = await startInProcessServer(cleanups, { metrics: METRICS });
    expect(serverMetricNames(text)).toEqual(serverMetricNames(await scrape(single)));
  });
});

describe('relayThreads 2: admin interface and drain', () => {
  async function adminOf(server: TurnServer, drain?: Drain): Promise<AdminClient> {
    const socket = path.join(dir, `admin-${Math.random().toString(36).slice(2)}.sock`);
    const logger = createLogger({ level: 'info', noStdout: true });
    const lifecycle = {
      reload: () => ({ ok: false, error: 'not here', applied: [], needsRestart: [] }),
      drain: () => drain!.start(),
    };
    const admin = await startAdminInterface({ socket, http: undefined }, createServerControl(server, logger, lifecycle), logger);
    cleanups.push(() => admin.close());
    return new AdminClient({ kind: 'socket', path: socket });
  }

  it('lists the sessions of both workers, each id naming its worker, and disconnects one on the second worker', async () => {
    const server = await startThreaded();
    const admin = await adminOf(server);
    const byWorker = [
      [await allocatedOn(server, 0), await allocatedOn(server, 0)],
      [await allocatedOn(server, 1), await allocatedOn(server, 1)],
    ];

    const sessions = await admin.sessions();
    const clientOf = (c: UdpTestClient) => `127.0.0.1:${c.socket.address().port}`;
    const sessionOf = (c: UdpTestClient) => sessions.find((s) => s.client === clientOf(c))!;
    expect(sessions.map((s) => s.client).sort()).toEqual(byWorker.flat().map(clientOf).sort());
    expect((await admin.stats()).allocations).toBe(4);
    // Worker K of N numbers its allocations K+1, K+1+N, …, so ids are unique and name their worker.
    expect(byWorker.map((clients) => clients.map((c) => (sessionOf(c).id - 1) % 2))).toEqual([
      [0, 0],
      [1, 1],
    ]);

    const [onSecond, alsoOnSecond] = byWorker[1]!;
    expect(await admin.disconnect({ id: sessionOf(onSecond!).id })).toBe(1);
    expect(readErrorCode(await onSecond!.refresh(), AttributeType.ErrorCode)?.code).toBe(437);
    expect((await alsoOnSecond!.refresh()).cls).toBe(StunClass.SuccessResponse);
    expect(await server.workerAllocationCounts()).toEqual([2, 1]);
    expect((await admin.sessions()).map((s) => s.client)).not.toContain(clientOf(onSecond!));

    expect(await admin.disconnect({ user: ALICE.username })).toBe(3);
    expect(await server.workerAllocationCounts()).toEqual([0, 0]);
  });

  it('drains every worker: no new allocation anywhere, done when the last allocation on any worker ends', async () => {
    const server = await startThreaded();
    const drain = new Drain(server.relayControl, () => 60, silentLogger);
    cleanups.push(() => drain.cancel());
    const admin = await adminOf(server, drain);
    const onFirst = await allocatedOn(server, 0);
    const onSecond = await allocatedOn(server, 1);

    expect(await admin.drain()).toMatchObject({ draining: true, allocations: 2 });
    // Both clients reach the same workers as before; neither gets a new allocation.
    for (const client of [onFirst, onSecond]) {
      await client.refresh(0);
      expect(readErrorCode(await client.allocate(), AttributeType.ErrorCode)?.code).toBe(403);
    }
    expect(await drain.done).toBe('drained');
  });

  it('keeps draining while an allocation on the second worker lives', async () => {
    const server = await startThreaded();
    const drain = new Drain(server.relayControl, () => 60, silentLogger);
    cleanups.push(() => drain.cancel());
    const onSecond = await clientOn(server, 1);
    await onSecond.allocateRelay();
    expect((await drain.start()).allocations).toBe(1);
    let over: string | undefined;
    void drain.done.then((why) => (over = why));
    await onSecond.quietFor(1200);
    expect(over).toBeUndefined();
    await onSecond.refresh(0);
    expect(await drain.done).toBe('drained');
  });
});

describe('relayThreads 2: self-test page', () => {
  it('names the shared listening ports and mints REST credentials any worker accepts', async () => {
    const server = await startThreaded({
      selfTest: { address: '127.0.0.1', port: 0, turnHost: '127.0.0.1' },
      useAuthSecret: true,
      staticAuthSecrets: ['threads-secret'],
      noTcp: false,
    });
    const page = server.selfTest!;
    const html = await (await fetch(page.url)).text();
    expect(html).toContain(`turn:127.0.0.1:${server.udpAddresses[0]!.port}?transport=udp`);
    expect(html).toContain(`turn:127.0.0.1:${server.streamAddresses[0]!.port}?transport=tcp`);

    const minted = (await (await fetch(`${page.url}credentials`)).json()) as { username: string; password: string };
    // Clients until both workers hold an allocation made with them (the kernel picks the worker).
    for (let i = 0; i < 40 && !(await server.workerAllocationCounts()).every((n) => n > 0); i++) {
      const client = await UdpTestClient.open(server.udpAddresses[0]!, minted);
      cleanups.push(() => client.close());
      expect((await client.allocate()).cls).toBe(StunClass.SuccessResponse);
    }
    expect((await server.workerAllocationCounts()).every((n) => n > 0)).toBe(true);
    expect(server.servicePorts.has(page.port)).toBe(true);
  });
});

describe('relayThreads 2: alternate-server', () => {
  it('sends newcomers round the list in turn for the server, not once round per worker', async () => {
    const first = await freePortRange('127.0.0.1', 100);
    const options = await testServerOptions({ relayThreads: 2, noTcpRelay: true, minPort: first, maxPort: first + 99 });
    const server = await createTurnServer(options);
    cleanups.push(() => server.close());
    const [onFirst, onSecond] = [await clientOn(server, 0), await clientOn(server, 1)];
    const alternates = ['127.0.0.2', '127.0.0.3'].map((address) => ({ family: 4 as const, address, port: 3478 }));
    await server.reconfigure({ ...options, redirect: { ...options.redirect, alternateServers: alternates } });
    // Answered after the reconfigure on each worker's channel: every worker has the list now.
    await server.workerAllocationCounts();
    const named: (string | undefined)[] = [];
    for (const client of [onFirst, onSecond, onSecond, onFirst]) {
      const answer = await client!.allocate();
      expect(readErrorCode(answer, AttributeType.ErrorCode)?.code).toBe(300);
      named.push(readAddress(answer, AttributeType.AlternateServer)?.address);
    }
    expect(named).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.2', '127.0.0.3']);
  });
});
