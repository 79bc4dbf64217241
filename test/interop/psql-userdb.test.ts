// One PostgreSQL user database for a mixed fleet, in coturn's schema: Turnpike's turnadmin -e
// and coturn's turnadmin -e each list what the other wrote, in the same format; users added by
// either relay turnutils_uclient's traffic through Turnpike (two relay threads) and through
// coturn's own turnserver (--psql-userdb) on the same database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePgConnection } from '../../src/config/pg-connection.js';
import { createTurnServer } from '../../src/server.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { runUclient, startCoturnOnUserDb, startPeer, type PeerHandle } from '../support/coturn-tools.js';
import { startPgServer, type PgServer } from '../support/pg-server.js';
import { freePortRange } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { testServerOptions } from '../support/server-options.js';
import { TURNADMIN_JS, turnadminRuns } from '../support/turnadmin-runs.js';

const HOST = '127.0.0.1';
const REALM = 'fleet.example';
const cleanups = cleanupAfterEach();

let pgServer: PgServer;
let peer: PeerHandle;
let dir: string;
beforeAll(async () => {
  if (!fs.existsSync(TURNADMIN_JS)) throw new Error(`${TURNADMIN_JS} not found (build Turnpike: npm run build)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-psql-'));
  pgServer = await startPgServer();
  peer = await startPeer();
}, 120_000);
afterAll(async () => {
  await peer?.stop();
  await stopAllProcesses();
  await pgServer?.remove();
  fs.rmSync(dir, { recursive: true, force: true });
});

const { coturn, turnpike } = turnadminRuns(() => dir);

describe("one PostgreSQL database, coturn's turnadmin -e and Turnpike's", () => {
  it('each lists, in the same format, what the other wrote', async () => {
    const conn = pgServer.keyValue(await pgServer.newDatabase());
    await coturn('-a', '-e', conn, '-u', 'alice', '-r', 'north.gov', '-p', 'secret');
    await coturn('-A', '-e', conn, '-u', 'root', '-p', 'adminpw');
    await coturn('-s', 'sharedsecret', '-e', conn, '-r', 'north.gov');
    await coturn('-O', '-e', conn, '-o', 'https://app.example', '-r', 'north.gov');
    await coturn('-g', '-e', conn, '-r', 'north.gov', '--max-bps', '64000', '--user-quota', '3');
    await turnpike('-a', '-e', conn, '-u', 'carol', '-r', 'east.gov', '-p', 'pw1');
    await turnpike('-A', '-e', conn, '-u', 'ops', '-r', 'north.gov', '-p', 'adminpw');
    await turnpike('-s', 's1', '-e', conn, '-r', 'east.gov');
    await turnpike('-O', '-e', conn, '-o', 'HTTP://Other.Example/x', '-r', 'east.gov');
    await turnpike('-g', '-e', conn, '-r', 'east.gov', '--total-quota', '100');
    // Again: the same key is replaced, not refused.
    await turnpike('-a', '-e', conn, '-u', 'alice', '-r', 'north.gov', '-p', 'secret');

    expect(await turnpike('-l', '-e', conn)).toEqual(['carol[east.gov]', 'alice[north.gov]']);
    expect(await turnpike('-S', '-e', conn)).toEqual(['s1[east.gov]', 'sharedsecret[north.gov]']);
    expect(await turnpike('-G', '-e', conn)).toEqual(['total-quota[east.gov]=100', 'max-bps[north.gov]=64000', 'user-quota[north.gov]=3']);
    for (const command of ['-l', '-L', '-S', '-I', '-G']) {
      expect(await turnpike(command, '-e', conn), command).toEqual(await coturn(command, '-e', conn));
      expect(await turnpike(command, '-r', 'north.gov', '-e', conn), `${command} -r`).toEqual(await coturn(command, '-r', 'north.gov', '-e', conn));
    }
    // And the URI form reaches the same database.
    const uri = pgServer.uri(conn.match(/dbname=(\S+)/)![1]!);
    expect(await turnpike('-l', '-e', uri)).toEqual(['carol[east.gov]', 'alice[north.gov]']);

    await turnpike('-d', '-e', conn, '-u', 'carol', '-r', 'east.gov');
    await turnpike('-X', 's1', '-e', conn, '-r', 'east.gov');
    await turnpike('-R', '-e', conn, '-o', 'https://app.example');
    await turnpike('-D', '-e', conn, '-u', 'root');
    for (const command of ['-l', '-L', '-S', '-I']) expect(await coturn(command, '-e', conn), command).toEqual(await turnpike(command, '-e', conn));
    expect(await coturn('-l', '-e', conn)).toEqual(['alice[north.gov]']);
  }, 300_000); // some 50 processes, on a shared machine
});

describe('users in PostgreSQL relay through Turnpike and through coturn', () => {
  it("users added by either turnadmin -e relay uclient's traffic through both servers, with 0 lost", async () => {
    const dbName = await pgServer.newDatabase();
    const conn = pgServer.keyValue(dbName);
    await turnpike('-a', '-e', conn, '-u', 'by-turnpike', '-r', REALM, '-p', 'pw-turnpike');
    await coturn('-a', '-e', conn, '-u', 'by-coturn', '-r', REALM, '-p', 'pw-coturn');

    const coturnServer = await startCoturnOnUserDb(HOST, REALM, ['--psql-userdb', conn]);
    cleanups.push(() => coturnServer.stop());

    const relayFirst = await freePortRange(HOST, 40);
    const turnpikeServer = await createTurnServer(await testServerOptions({
      realm: REALM, serverName: REALM, users: [], relayThreads: 2, noTcpRelay: true, minPort: relayFirst, maxPort: relayFirst + 39,
      psqlUserDb: parsePgConnection(pgServer.uri(dbName)).connection,
    }));
    cleanups.push(() => turnpikeServer.close());

    for (const [name, port, log] of [
      ['coturn', coturnServer.port, () => coturnServer.readLog()],
      ['Turnpike', turnpikeServer.udpAddresses[0]!.port, () => ''],
    ] as const) {
      for (const [user, password] of [['by-turnpike', 'pw-turnpike'], ['by-coturn', 'pw-coturn']]) {
        const load = { host: HOST, port, noRtcp: true, clients: 2, messages: 20, peerAddr: peer.host, peerPort: peer.port, user, password, timeoutMs: 30_000 };
        const r = await runUclient(load);
        expect(r.exitCode, `${name}, ${user}: ${r.output}\n--- log ---\n${log()}`).toBe(0);
        expect(r.received, `${name}, ${user}`).toBe(40);
        expect(r.lostPackets, `${name}, ${user}`).toBe(0);
      }
      const wrong = await runUclient({ host: HOST, port, noRtcp: true, clients: 1, messages: 1, peerAddr: peer.host, peerPort: peer.port, user: 'by-coturn', password: 'wrong', timeoutMs: 15_000 });
      expect(wrong.allocationFailed, `${name}: ${wrong.output}`).toBe(true);
    }
  }, 180_000);
});
