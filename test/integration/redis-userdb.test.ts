// coturn's Redis user database (redis-userdb): users, REST secrets and realm options in coturn's
// key layout, read from a real redis-server started here on a free port.
import { describe, expect, it } from 'vitest';
import { restPassword } from '../../src/auth/rest-api.js';
import type { ServerOptions } from '../../src/config/server-options.js';
import type { TurnServer } from '../../src/server.js';
import { StunClass, longTermKey } from '../../src/stun/index.js';
import { silentLogger } from '../../src/log/logger-interface.js';
import { allocationHelpers, errorCode, eventually, succeeded } from '../support/allocations.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { freeTcpPort } from '../support/ports.js';
import { startRedisServer, type RedisHandle } from '../support/redis-server.js';
import { REALM } from '../support/server-options.js';
import { relayThreadHelpers } from '../support/relay-threads.js';
import { openPeer, type Credentials } from '../support/turn-client.js';

const cleanups = cleanupAfterEach();

const logged: string[] = [];
const recordingLogger = { ...silentLogger, warn: (m: string) => void logged.push(m), info: (m: string) => void logged.push(m) };

function redisOptions(redis: Pick<RedisHandle, 'port'>): Partial<ServerOptions> {
  return { users: [], redisUserDb: { host: '127.0.0.1', port: redis.port, db: 0, username: undefined, password: undefined, connectTimeoutSeconds: 0 } };
}

const startRedis = (port?: number): Promise<RedisHandle> => startRedisServer(cleanups, port);

const startServer = (overrides: Partial<ServerOptions>): Promise<TurnServer> => startInProcessServer(cleanups, overrides, recordingLogger);

const { clientOf, allocateAs } = allocationHelpers(cleanups);
const { startThreaded, allocationsOnBothWorkers } = relayThreadHelpers(cleanups);
const code = errorCode;

/** coturn's layout: turn/realm/<realm>/user/<name>/key, the hex long-term key. */
const addUser = (redis: RedisHandle, name: string, password: string) =>
  redis.client.set(`turn/realm/${REALM}/user/${name}/key`, longTermKey(name, REALM, password).toString('hex'));

describe('the Redis user database (redis-userdb)', () => {
  it("authenticates a user stored with coturn's key layout, and relays for it", async () => {
    const redis = await startRedis();
    await addUser(redis, 'dora', 'explorer');
    const server = await startServer(redisOptions(redis));
    const client = await clientOf(server, { username: 'dora', password: 'explorer' });
    const peer = await openPeer();
    cleanups.push(() => new Promise<void>((r) => peer.socket.close(() => r())));
    const relay = await client.allocateRelay();
    expect((await client.channelBind(0x4001, peer.address)).cls).toBe(StunClass.SuccessResponse);
    client.sendChannelData(0x4001, Buffer.from('to the peer'));
    expect((await peer.next()).data.toString()).toBe('to the peer');
    peer.socket.send(Buffer.from('back'), relay.port, relay.address);
    expect((await client.nextDatagram()).data.subarray(4).toString()).toBe('back');
    expect(code(await allocateAs(server, { username: 'dora', password: 'wrong' }))).toBe(401);
  });

  it('counts users added while the server runs at once, with a key or a clear password', async () => {
    const redis = await startRedis();
    const server = await startServer(redisOptions(redis));
    expect(code(await allocateAs(server, { username: 'eve', password: 'later' }))).toBe(401);
    await addUser(redis, 'eve', 'later');
    expect(succeeded(await allocateAs(server, { username: 'eve', password: 'later' }))).toBe(true);
    await redis.client.set(`turn/realm/${REALM}/user/gorst/password`, 'hero');
    expect(succeeded(await allocateAs(server, { username: 'gorst', password: 'hero' }))).toBe(true);
    expect(code(await allocateAs(server, { username: 'gorst', password: 'villain' }))).toBe(401);
  });

  it('signs REST API credentials with the secrets under turn/realm/<realm>/secret/*', async () => {
    const redis = await startRedis();
    const server = await startServer({ ...redisOptions(redis), useAuthSecret: true, staticAuthSecrets: [] });
    const rest = (secret: string): Credentials => {
      const username = `${Math.floor(Date.now() / 1000) + 3600}:rest-user`;
      return { username, password: restPassword(secret, username) };
    };
    expect(code(await allocateAs(server, rest('logen')))).toBe(401);
    await redis.client.set(`turn/realm/${REALM}/secret/1368426581`, 'logen');
    await redis.client.set(`turn/realm/${REALM}/secret/1368426582`, 'rotated-in');
    expect(succeeded(await allocateAs(server, rest('logen')))).toBe(true);
    expect(succeeded(await allocateAs(server, rest('rotated-in')))).toBe(true);
    expect(code(await allocateAs(server, rest('not-a-secret')))).toBe(401);
  });

  it("signs REST API credentials with the members of coturn's set turn/realm/<realm>/secret", async () => {
    const redis = await startRedis();
    const server = await startServer({ ...redisOptions(redis), useAuthSecret: true, staticAuthSecrets: [] });
    const username = `${Math.floor(Date.now() / 1000) + 3600}:rest-user`;
    expect(code(await allocateAs(server, { username, password: restPassword('bloody9', username) }))).toBe(401);
    await redis.client.sadd(`turn/realm/${REALM}/secret`, 'logen', 'bloody9'); // as schema.userdb.redis's example
    expect(succeeded(await allocateAs(server, { username, password: restPassword('bloody9', username) }))).toBe(true);
  });

  it("applies the realm's user-quota from turn/realm/<realm>/user-quota", async () => {
    const redis = await startRedis();
    await addUser(redis, 'dora', 'explorer');
    await redis.client.set(`turn/realm/${REALM}/user-quota`, '1');
    const server = await startServer(redisOptions(redis));
    expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
    expect(code(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(486);
  });

  it('does not wait more than a moment for a Redis that stopped answering', async () => {
    logged.length = 0;
    const redis = await startRedis();
    await addUser(redis, 'dora', 'explorer');
    const server = await startServer(redisOptions(redis));
    expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
    process.kill(redis.pid, 'SIGSTOP');
    try {
      const started = Date.now();
      expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
      // The lookup gives up after 250 ms and answers from what it last read.
      expect(Date.now() - started).toBeLessThan(1500);
      expect(logged.filter((m) => /is unreachable \(no answer within 250 ms\)/.test(m))).toHaveLength(1);
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
  });

  it('starts while Redis is down, and uses it once it is up', async () => {
    logged.length = 0;
    const port = await freeTcpPort();
    const server = await startServer(redisOptions({ port }));
    expect(logged.filter((m) => /Redis user database .* is unreachable/.test(m))).toHaveLength(1);
    expect(code(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(401);
    const redis = await startRedis(port);
    await addUser(redis, 'dora', 'explorer');
    expect(await eventually(async () => succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' })))).toBe(true);
  });

  it('answers known users from the last known answer while Redis is down, says so once, and reconnects', async () => {
    logged.length = 0;
    const redis = await startRedis();
    await addUser(redis, 'dora', 'explorer');
    const server = await startServer(redisOptions(redis));
    expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
    await redis.stop();
    expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
    expect(code(await allocateAs(server, { username: 'dora', password: 'wrong' }))).toBe(401);
    expect(code(await allocateAs(server, { username: 'never-seen', password: 'x' }))).toBe(401);
    const outage = logged.filter((m) => /Redis user database .* is unreachable/.test(m));
    expect(outage).toHaveLength(1);

    // Back on the same port (empty: nothing was saved): the server reconnects by itself.
    const again = await startRedis(redis.port);
    await addUser(again, 'eve', 'later');
    expect(await eventually(async () => succeeded(await allocateAs(server, { username: 'eve', password: 'later' })))).toBe(true);
    expect(logged.some((m) => /Redis user database .* is reachable again/.test(m))).toBe(true);
  });

  it('answers a user one relay worker looked up on every worker while Redis is down (relay-threads=2)', async () => {
    const redis = await startRedis();
    // A clear password: both its MD5 and SHA-256 keys cross to the other worker.
    await redis.client.set(`turn/realm/${REALM}/user/dora/password`, 'explorer');
    const server = await startThreaded(redisOptions(redis));
    // dora is looked up once, by the one worker this socket reaches.
    expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
    await redis.stop();
    expect(await allocationsOnBothWorkers(server, { username: 'dora', password: 'explorer' })).toEqual({ workers: new Set([0, 1]), failures: [] });
    // Many sockets, so both workers refuse it.
    for (let i = 0; i < 16; i++) expect(code(await allocateAs(server, { username: 'dora', password: 'wrong' }))).toBe(401);
  }, 60_000);

  it('gives a replacement relay worker the users the others looked up, for an outage that goes on', async () => {
    logged.length = 0;
    const redis = await startRedis();
    await addUser(redis, 'dora', 'explorer');
    const server = await startThreaded(redisOptions(redis), recordingLogger);
    expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
    await redis.stop();
    // Whichever worker looked dora up, worker 0's replacement never did.
    await server.workerThreads[0]!.terminate();
    await expect.poll(() => logged.includes('relay worker 0 replaced'), { timeout: 10_000 }).toBe(true);
    const { workers, failures } = await allocationsOnBothWorkers(server, { username: 'dora', password: 'explorer' });
    expect(failures).toEqual([]);
    expect(workers).toContain(0);
  }, 60_000);
});
