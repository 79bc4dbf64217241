// relayThreads > 1: a relay worker that dies is replaced with the same index, while the other
// worker's allocations go on. The fault is a real one from outside: the worker's thread is
// terminated (Node cannot kill one thread otherwise). Workers run from dist/ (built by pretest).
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { parsePgConnection } from '../../src/config/pg-connection.js';
import type { MetricsOptions } from '../../src/config/server-options.js';
import type { TurnServer } from '../../src/server.js';
import { Method, StunClass, longTermKey } from '../../src/stun/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { recordingLogger } from '../support/recording-logger.js';
import { PACKETS, echoedThroughUdp, relayThreadHelpers, relayWorkerThreads } from '../support/relay-threads.js';
import { ALICE, ALICE_KEY, REALM, testServerOptions } from '../support/server-options.js';
import { UdpTestClient } from '../support/turn-client.js';
import { valueOf } from '../unit/metrics/exposition.js';

const cleanups = cleanupAfterEach();
const { startThreaded, echoPeer, clientOn, allocatedOn, dtlsClientsAllocated } = relayThreadHelpers(cleanups);

const METRICS: MetricsOptions = { address: '127.0.0.1', port: 0, path: '/metrics', usernameLabels: false };
const scrape = async (server: TurnServer): Promise<string> => (await fetch(server.metrics!.endpoint!.url)).text();

const BOB = { username: 'bob', password: 'builder' };
const USERS = [
  { name: ALICE.username, key: ALICE_KEY },
  { name: BOB.username, key: longTermKey(BOB.username, REALM, BOB.password) },
];

describe('relayThreads 2: a worker that dies', () => {
  it('is logged and replaced; its quota is free again, the other worker relays on, and the replacement serves', async () => {
    const { logger, lines } = recordingLogger();
    const server = await startThreaded({ userQuota: 1, users: USERS, metrics: METRICS }, logger);
    const peer = await echoPeer();
    await allocatedOn(server, 0, ALICE);
    const bob = await allocatedOn(server, 1, BOB);
    await bob.createPermission(peer.address);
    expect(await server.workerAllocationCounts()).toEqual([1, 1]);
    const createdBefore = valueOf(await scrape(server), 'turnpike_allocations_total', { event: 'created' })!;

    await server.workerThreads[0]!.terminate();
    await expect.poll(() => lines.some((l) => /^error relay worker 0 exited \(code 1\)/.test(l))).toBe(true);
    // Until the replacement binds, worker 1 has the listening port alone: its client stays on it.
    expect(await echoedThroughUdp(bob, peer.address)).toBe(PACKETS);
    // Alice's quota, held by the dead worker's allocation, is free for a new client of hers.
    const aliceAgain = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
    cleanups.push(() => aliceAgain.close());
    await aliceAgain.allocateRelay();
    // Given back, so the client on the replacement below may allocate as alice.
    expect((await aliceAgain.refresh(0)).cls).toBe(StunClass.SuccessResponse);

    await expect.poll(() => lines.includes('info relay worker 0 replaced'), { timeout: 5000 }).toBe(true);
    expect(relayWorkerThreads()).toBe(2);
    // What the dead worker counted stays in the totals; its live allocation leaves the gauges.
    const text = await scrape(server);
    expect(valueOf(text, 'turnpike_allocations_total', { event: 'created' })).toBe(createdBefore + 1);
    expect(valueOf(text, 'turn_total_allocations', { type: 'UDP' })).toBe(1);
    expect(await server.workerAllocationCounts()).toHaveLength(2);
    // The replacement took a place in the port's group: bob's own socket keeps him on worker 1.
    expect(await echoedThroughUdp(bob, peer.address)).toBe(PACKETS);
    expect((await bob.refresh()).cls).toBe(StunClass.SuccessResponse);
    // A client the kernel hands to the replacement allocates and relays through it.
    const onReplacement = await clientOn(server, 0, ALICE);
    await onReplacement.allocateRelay();
    await onReplacement.createPermission(peer.address);
    expect(await echoedThroughUdp(onReplacement, peer.address)).toBe(PACKETS);
    expect(lines).toContain('warn relay worker 0 is replaced in 1 s');
  });

  it('keeps the DTLS associations of the other worker where their keys are when the replacement joins', async () => {
    const { logger, lines } = recordingLogger();
    const { server, clients } = await dtlsClientsAllocated(8, logger);
    const [, onSurvivor] = await server.workerAllocationCounts();
    expect(onSurvivor).toBeGreaterThan(0);

    await server.workerThreads[0]!.terminate();
    await expect.poll(() => lines.includes('info relay worker 0 replaced'), { timeout: 5000 }).toBe(true);
    // The replacement took a place in the port's group; without their own sockets, worker 1's
    // associations would now reach it, which has no keys for them.
    const refreshed = await Promise.allSettled(clients.map((c) => c.request(Method.Refresh)));
    const answered = refreshed.filter((r) => r.status === 'fulfilled' && r.value.cls === StunClass.SuccessResponse);
    expect(answered).toHaveLength(onSurvivor!);
  });

  it('is replaced by a worker with the options in force, reloaded ones included', async () => {
    const { logger, lines } = recordingLogger();
    const server = await startThreaded({}, logger);
    // Only bob from now on.
    await server.reconfigure({ ...(await testServerOptions({ relayThreads: 2, noTcpRelay: true })), users: [USERS[1]!] });
    await server.workerThreads[0]!.terminate();
    await expect.poll(() => lines.includes('info relay worker 0 replaced'), { timeout: 5000 }).toBe(true);
    const onReplacement = await clientOn(server, 0, BOB);
    expect((await onReplacement.allocate()).cls).toBe(StunClass.SuccessResponse);
  });

  it('keeps a reload that comes while its replacement starts', async () => {
    // A user database that accepts connections and never answers: a worker's start waits for
    // it (3 s), after it began listening to main, so main's messages arrive in the middle.
    const held = new Set<net.Socket>();
    const silentDb = net.createServer((socket) => void held.add(socket));
    await new Promise<void>((resolve) => silentDb.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      held.forEach((socket) => socket.destroy());
      silentDb.close();
    });
    const psqlUserDb = parsePgConnection(`host=127.0.0.1 port=${(silentDb.address() as net.AddressInfo).port} dbname=turn user=turn`).connection!;
    const { logger, lines } = recordingLogger();
    const server = await startThreaded({ psqlUserDb, users: USERS.slice(0, 1) }, logger);
    const onlyBob = { ...(await testServerOptions({ relayThreads: 2, noTcpRelay: true, psqlUserDb })), users: USERS.slice(1) };
    const dead = server.workerThreads[0]!;
    await dead.terminate();
    await expect.poll(() => server.workerThreads[0] !== dead, { timeout: 5000, interval: 5 }).toBe(true);
    // The replacement is waiting for the database.
    await new Promise((r) => setTimeout(r, 1500));
    expect(lines).not.toContain('info relay worker 0 replaced');
    await server.reconfigure(onlyBob);
    await expect.poll(() => lines.includes('info relay worker 0 replaced'), { timeout: 10_000 }).toBe(true);
    const onReplacement = await clientOn(server, 0, BOB);
    expect((await onReplacement.allocate()).cls).toBe(StunClass.SuccessResponse);
  }, 30_000);

  it('is not replaced while the server drains to exit', async () => {
    const { logger, lines } = recordingLogger();
    const server = await startThreaded({}, logger);
    server.relayControl.drain();
    await server.workerThreads[1]!.terminate();
    await expect.poll(() => lines.includes('warn relay worker 1 is not replaced: the server is draining')).toBe(true);
    expect(relayWorkerThreads()).toBe(1);
  });

  it('is not replaced once the server closes', async () => {
    const { logger, lines } = recordingLogger();
    const server = await startThreaded({}, logger);
    await server.workerThreads[0]!.terminate();
    await expect.poll(() => lines.includes('warn relay worker 0 is replaced in 1 s')).toBe(true);
    await server.close();
    expect(relayWorkerThreads()).toBe(0);
    // Past the back-off: the replacement that was waiting never starts.
    await new Promise((r) => setTimeout(r, 1500));
    expect(relayWorkerThreads()).toBe(0);
    expect(lines).not.toContain('info relay worker 0 replaced');
  });
});
