// One Redis user database for a mixed fleet: coturn's own turnserver (--redis-userdb) and
// Turnpike read the same users, in coturn's key layout, and relay uclient's traffic for them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTurnServer } from '../../src/server.js';
import { longTermKey } from '../../src/stun/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { runUclient, startCoturnOnUserDb, startPeer, type PeerHandle } from '../support/coturn-tools.js';
import { startRedisServer } from '../support/redis-server.js';
import { testServerOptions } from '../support/server-options.js';

const HOST = '127.0.0.1';
const REALM = 'fleet.example';
const cleanups = cleanupAfterEach();

describe('redis-userdb shared with coturn', () => {
  let peer: PeerHandle;
  beforeAll(async () => {
    peer = await startPeer();
  });
  afterAll(async () => {
    await peer.stop();
  });

  it('a user stored once in Redis allocates and relays through coturn and through Turnpike', async () => {
    const redis = await startRedisServer(cleanups);
    await redis.client.set(`turn/realm/${REALM}/user/fleet-user/key`, longTermKey('fleet-user', REALM, 'fleet-pass').toString('hex'));
    const conn = `ip=${HOST} port=${redis.port} dbname=0`;

    const coturn = await startCoturnOnUserDb(HOST, REALM, ['--redis-userdb', conn]);
    cleanups.push(() => coturn.stop());

    const turnpike = await createTurnServer(await testServerOptions({
      realm: REALM, serverName: REALM, users: [],
      redisUserDb: { host: HOST, port: redis.port, db: 0, username: undefined, password: undefined, connectTimeoutSeconds: 0 },
    }));
    cleanups.push(() => turnpike.close());

    const load = { noRtcp: true, clients: 2, messages: 20, peerAddr: peer.host, peerPort: peer.port, user: 'fleet-user', password: 'fleet-pass', timeoutMs: 30_000 };
    for (const [name, port, log] of [
      ['coturn', coturn.port, () => coturn.readLog()],
      ['Turnpike', turnpike.udpAddresses[0]!.port, () => ''],
    ] as const) {
      const r = await runUclient({ ...load, host: HOST, port });
      expect(r.exitCode, `${name}: ${r.output}\n--- log ---\n${log()}`).toBe(0);
      expect(r.received, name).toBe(40);
      expect(r.lostPackets, name).toBe(0);
      const wrong = await runUclient({ ...load, host: HOST, port, clients: 1, messages: 1, password: 'wrong', timeoutMs: 15_000 });
      expect(wrong.allocationFailed, `${name}: ${wrong.output}`).toBe(true);
    }
  });
});
