// One MySQL/MariaDB user database for a mixed fleet, in coturn's schema: Turnpike's turnadmin -M
// prints what it prints with -b (SQLite) for the same commands, and what coturn's turnadmin -M
// prints; users added by either relay turnutils_uclient's traffic through Turnpike (two relay
// threads) and through coturn's own turnserver (--mysql-userdb) on the same database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMysqlConnection } from '../../src/config/mysql-connection.js';
import { createTurnServer } from '../../src/server.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startCoturnOnUserDb, startPeer, type PeerHandle } from '../support/coturn-tools.js';
import { expectUsersRelay, TURNADMIN_JS, turnadmins, type Admin } from '../support/fleet-userdb.js';
import { startMysqlServer, type MysqlServer } from '../support/mysql-server.js';
import { freePortRange } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { testServerOptions } from '../support/server-options.js';

const HOST = '127.0.0.1';
const REALM = 'fleet.example';
const cleanups = cleanupAfterEach();

let mysqlServer: MysqlServer;
let peer: PeerHandle;
let dir: string;
beforeAll(async () => {
  if (!fs.existsSync(TURNADMIN_JS)) throw new Error(`${TURNADMIN_JS} not found (build Turnpike: npm run build)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-mysql-'));
  mysqlServer = await startMysqlServer();
  peer = await startPeer();
}, 240_000);
afterAll(async () => {
  await peer?.stop();
  await stopAllProcesses();
  await mysqlServer?.remove();
  fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

const { run, coturn, turnpike } = turnadmins(() => dir);

/** The same writes, with `db` naming the database (-M CONN or -b FILE). */
async function write(admin: Admin, db: readonly string[]): Promise<void> {
  await admin('-a', ...db, '-u', 'alice', '-r', 'north.gov', '-p', 'secret');
  await admin('-a', ...db, '-u', 'carol', '-r', 'east.gov', '-p', 'pw1');
  await admin('-A', ...db, '-u', 'ops', '-r', 'north.gov', '-p', 'adminpw');
  await admin('-A', ...db, '-u', 'root', '-p', 'adminpw');
  await admin('-s', 'sharedsecret', ...db, '-r', 'north.gov');
  await admin('-s', 's1', ...db, '-r', 'east.gov');
  await admin('-O', ...db, '-o', 'https://app.example', '-r', 'north.gov');
  await admin('-O', ...db, '-o', 'HTTP://Other.Example/x', '-r', 'east.gov');
  await admin('-g', ...db, '-r', 'north.gov', '--max-bps', '64000', '--user-quota', '3');
  await admin('-g', ...db, '-r', 'east.gov', '--total-quota', '100');
  // Again: the same key is replaced, not refused.
  await admin('-a', ...db, '-u', 'alice', '-r', 'north.gov', '-p', 'secret');
  await admin('-g', ...db, '-r', 'north.gov', '--max-bps', '32000');
}

/** Every listing, with and without -r. */
async function listings(admin: Admin, db: readonly string[]): Promise<Record<string, string[]>> {
  const all: Record<string, string[]> = {};
  for (const command of ['-l', '-L', '-S', '-I', '-G']) {
    all[command] = await admin(command, ...db);
    all[`${command} -r`] = await admin(command, '-r', 'north.gov', ...db);
  }
  return all;
}

async function removeSome(admin: Admin, db: readonly string[]): Promise<void> {
  await admin('-d', ...db, '-u', 'carol', '-r', 'east.gov');
  await admin('-X', 's1', ...db, '-r', 'east.gov');
  await admin('-R', ...db, '-o', 'https://app.example');
  await admin('-D', ...db, '-u', 'root');
  await admin('-g', ...db, '-r', 'north.gov', '--user-quota', '0');
}

describe("turnadmin -M: the same output as -b, and as coturn's turnadmin -M", () => {
  it('prints for MySQL what it prints for SQLite after the same commands, and what coturn prints for MySQL', async () => {
    const mysqlDb = ['-M', mysqlServer.connectionString(await mysqlServer.newDatabase())];
    const sqliteFile = path.join(dir, 'turndb');
    await run('sqlite3', [sqliteFile, `.read /usr/share/coturn/schema.sql`]);
    const sqliteDb = ['-b', sqliteFile];

    await write(turnpike, mysqlDb);
    await write(turnpike, sqliteDb);
    const written = await listings(turnpike, mysqlDb);
    expect(written['-l']).toEqual(['carol[east.gov]', 'alice[north.gov]']);
    expect(written['-G']).toEqual(['total-quota[east.gov]=100', 'max-bps[north.gov]=32000', 'user-quota[north.gov]=3']);
    expect(written).toEqual(await listings(turnpike, sqliteDb));
    expect(written).toEqual(await listings(coturn, mysqlDb));

    await removeSome(turnpike, mysqlDb);
    await removeSome(turnpike, sqliteDb);
    const left = await listings(turnpike, mysqlDb);
    expect(left['-l']).toEqual(['alice[north.gov]']);
    expect(left).toEqual(await listings(turnpike, sqliteDb));
    expect(left).toEqual(await listings(coturn, mysqlDb));
  }, 300_000); // some 80 processes, on a shared machine

  it("lists what coturn's turnadmin -M wrote as coturn does", async () => {
    const db = ['-M', mysqlServer.connectionString(await mysqlServer.newDatabase())];
    await write(coturn, db);
    expect(await listings(turnpike, db)).toEqual(await listings(coturn, db));
  }, 300_000);
});

describe('users in MySQL relay through Turnpike and through coturn', () => {
  it("users added by either turnadmin -M relay uclient's traffic through both servers, with 0 lost", async () => {
    const conn = mysqlServer.connectionString(await mysqlServer.newDatabase());
    await turnpike('-a', '-M', conn, '-u', 'by-turnpike', '-r', REALM, '-p', 'pw-turnpike');
    await coturn('-a', '-M', conn, '-u', 'by-coturn', '-r', REALM, '-p', 'pw-coturn');

    const coturnServer = await startCoturnOnUserDb(HOST, REALM, ['--mysql-userdb', conn]);
    cleanups.push(() => coturnServer.stop());

    const relayFirst = await freePortRange(HOST, 40);
    const turnpikeServer = await createTurnServer(await testServerOptions({
      realm: REALM, serverName: REALM, users: [], relayThreads: 2, noTcpRelay: true, minPort: relayFirst, maxPort: relayFirst + 39,
      mysqlUserDb: parseMysqlConnection(conn).connection,
    }));
    cleanups.push(() => turnpikeServer.close());

    await expectUsersRelay(
      HOST,
      peer,
      [
        { name: 'coturn', port: coturnServer.port, log: () => coturnServer.readLog() },
        { name: 'Turnpike', port: turnpikeServer.udpAddresses[0]!.port, log: () => '' },
      ],
      [['by-turnpike', 'pw-turnpike'], ['by-coturn', 'pw-coturn']],
    );
  }, 180_000);
});
