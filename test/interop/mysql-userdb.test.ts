// One MySQL/MariaDB user database for a mixed fleet, in coturn's schema: Turnpike's turnadmin -M
// prints what it prints with -b (SQLite) for the same commands, and what coturn's turnadmin -M
// prints; users added by either relay turnutils_uclient's traffic through Turnpike (two relay
// threads) and through coturn's own turnserver (--mysql-userdb) on the same database.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMysqlConnection } from '../../src/config/mysql-connection.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { expectUsersRelay, fleetFixture, startBothServers, type Admin } from '../support/fleet-userdb.js';
import { startMysqlServer } from '../support/mysql-server.js';

const HOST = '127.0.0.1';
const REALM = 'fleet.example';
const cleanups = cleanupAfterEach();

const fleet = fleetFixture(startMysqlServer);
const { run, coturn, turnpike } = fleet;

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
    const mysqlDb = ['-M', fleet.db().connectionString(await fleet.db().newDatabase())];
    const sqliteFile = path.join(fleet.dir(), 'turndb');
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
    const db = ['-M', fleet.db().connectionString(await fleet.db().newDatabase())];
    await write(coturn, db);
    expect(await listings(turnpike, db)).toEqual(await listings(coturn, db));
  }, 300_000);
});

describe('users in MySQL relay through Turnpike and through coturn', () => {
  it("users added by either turnadmin -M relay uclient's traffic through both servers, with 0 lost", async () => {
    const conn = fleet.db().connectionString(await fleet.db().newDatabase());
    await turnpike('-a', '-M', conn, '-u', 'by-turnpike', '-r', REALM, '-p', 'pw-turnpike');
    await coturn('-a', '-M', conn, '-u', 'by-coturn', '-r', REALM, '-p', 'pw-coturn');

    const servers = await startBothServers(cleanups, HOST, REALM, ['--mysql-userdb', conn], { mysqlUserDb: parseMysqlConnection(conn).connection });
    await expectUsersRelay(HOST, fleet.peer(), servers, [['by-turnpike', 'pw-turnpike'], ['by-coturn', 'pw-coturn']]);
  }, 180_000);
});
