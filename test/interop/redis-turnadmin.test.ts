// turnadmin -N on one Redis user database, in coturn's key layout: Turnpike's turnadmin and
// coturn's each list what the other wrote, line for line; users added by either relay
// turnutils_uclient's traffic through Turnpike reading that Redis (redis-userdb).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../support/cleanups.js';
import { runUclient, startPeer, type PeerHandle } from '../support/coturn-tools.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { stopAllProcesses } from '../support/processes.js';
import { startRedisServer } from '../support/redis-server.js';
import { TURNADMIN_JS, turnadmins } from '../support/fleet-userdb.js';

const HOST = '127.0.0.1';
const REALM = 'fleet.example';
const cleanups = cleanupAfterEach();

let peer: PeerHandle;
let dir: string;
beforeAll(async () => {
  if (!fs.existsSync(TURNADMIN_JS)) throw new Error(`${TURNADMIN_JS} not found (build Turnpike: npm run build)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-redis-admin-'));
  peer = await startPeer();
});
afterAll(async () => {
  await peer?.stop();
  await stopAllProcesses();
  fs.rmSync(dir, { recursive: true, force: true });
});

const { coturn, turnpike } = turnadmins(() => dir);

describe("one Redis user database, coturn's turnadmin -N and Turnpike's", () => {
  it('each lists, in the same format and order, what the other wrote', async () => {
    const redis = await startRedisServer(cleanups);
    const conn = `ip=${HOST} port=${redis.port} dbname=0`;
    await coturn('-a', '-N', conn, '-u', 'alice', '-r', 'north.gov', '-p', 'secret');
    await coturn('-A', '-N', conn, '-u', 'root', '-p', 'adminpw');
    await coturn('-s', 'sharedsecret', '-N', conn, '-r', 'north.gov');
    await coturn('-O', '-N', conn, '-o', 'https://app.example', '-r', 'north.gov');
    await coturn('-g', '-N', conn, '-r', 'north.gov', '--max-bps', '64000', '--user-quota', '3');
    await turnpike('-a', '-N', conn, '-u', 'carol', '-r', 'east.gov', '-p', 'pw1');
    await turnpike('-A', '-N', conn, '-u', 'ops', '-r', 'north.gov', '-p', 'adminpw');
    await turnpike('-s', 's1', '-N', conn, '-r', 'east.gov');
    await turnpike('-s', 's2', '-N', conn, '-r', 'east.gov');
    await turnpike('-O', '-N', conn, '-o', 'HTTP://Other.Example/x', '-r', 'east.gov');
    await turnpike('-g', '-N', conn, '-r', 'east.gov', '--total-quota', '100');
    await turnpike('-a', '-N', conn, '-u', 'alice', '-r', 'north.gov', '-p', 'secret');

    expect(new Set(await turnpike('-l', '-N', conn))).toEqual(new Set(['carol[east.gov]', 'alice[north.gov]']));
    expect(new Set(await turnpike('-G', '-N', conn))).toEqual(new Set(['east.gov/total-quota = 100', 'north.gov/max-bps = 64000', 'north.gov/user-quota = 3']));
    expect(new Set(await turnpike('-L', '-N', conn))).toEqual(new Set(['root', 'ops[north.gov]']));
    expect(new Set(await turnpike('-I', '-N', conn))).toEqual(new Set(['https://app.example:443 ==>> north.gov', 'http://other.example:80 ==>> east.gov']));
    for (const command of ['-l', '-L', '-S', '-I', '-G']) {
      expect(await turnpike(command, '-N', conn), command).toEqual(await coturn(command, '-N', conn));
      expect(await turnpike(command, '-r', 'north.gov', '-N', conn), `${command} -r`).toEqual(await coturn(command, '-r', 'north.gov', '-N', conn));
    }
    // The keys are coturn's: what coturn's turnadmin -k computes.
    expect(await redis.client.get('turn/realm/east.gov/user/carol/key')).toBe((await coturn('-k', '-u', 'carol', '-r', 'east.gov', '-p', 'pw1'))[0]!.slice(2));

    await turnpike('-d', '-N', conn, '-u', 'carol', '-r', 'east.gov');
    await turnpike('-X', 's1', '-N', conn, '-r', 'east.gov');
    await turnpike('-R', '-N', conn, '-o', 'https://app.example');
    await turnpike('-D', '-N', conn, '-u', 'root');
    for (const command of ['-l', '-L', '-S', '-I', '-G']) expect(await coturn(command, '-N', conn), command).toEqual(await turnpike(command, '-N', conn));
    expect(await coturn('-l', '-N', conn)).toEqual(['alice[north.gov]']);
    expect(new Set(await coturn('-S', '-N', conn))).toEqual(new Set(['sharedsecret[north.gov]', 's2[east.gov]']));
  }, 300_000);

  it("users added by either turnadmin -N relay uclient's traffic through Turnpike on redis-userdb", async () => {
    const redis = await startRedisServer(cleanups);
    const conn = `ip=${HOST} port=${redis.port}`;
    await turnpike('-a', '-N', conn, '-u', 'by-turnpike', '-r', REALM, '-p', 'pw-turnpike');
    await coturn('-a', '-N', conn, '-u', 'by-coturn', '-r', REALM, '-p', 'pw-coturn');
    const server = await startInProcessServer(cleanups, {
      realm: REALM, serverName: REALM, users: [],
      redisUserDb: { host: HOST, port: redis.port, db: 0, username: undefined, password: undefined, connectTimeoutSeconds: 0 },
    });
    for (const [user, password] of [['by-turnpike', 'pw-turnpike'], ['by-coturn', 'pw-coturn']] as const) {
      const r = await runUclient({ host: HOST, port: server.udpAddresses[0]!.port, noRtcp: true, clients: 2, messages: 20, peerAddr: peer.host, peerPort: peer.port, user, password, timeoutMs: 30_000 });
      expect(r.exitCode, `${user}: ${r.output}`).toBe(0);
      expect(r.received, user).toBe(40);
    }
  }, 120_000);
});
