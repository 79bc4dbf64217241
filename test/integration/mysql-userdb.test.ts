// coturn's MySQL/MariaDB user database (mysql-userdb): users, REST secrets and realm options in
// coturn's schema, read from a real MariaDB server started here on a free port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdmin } from '../../src/admin/index.js';
import { restPassword } from '../../src/auth/rest-api.js';
import { parseMysqlConnection } from '../../src/config/mysql-connection.js';
import type { ServerOptions } from '../../src/config/server-options.js';
import type { TurnServer } from '../../src/server.js';
import { StunClass, longTermKey } from '../../src/stun/index.js';
import { silentLogger } from '../../src/log/logger-interface.js';
import { allocationHelpers, errorCode, eventually, succeeded } from '../support/allocations.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { startMysqlServer, type MysqlServer } from '../support/mysql-server.js';
import { freeTcpPort } from '../support/ports.js';
import { REALM } from '../support/server-options.js';
import { openPeer, type Credentials } from '../support/turn-client.js';

const cleanups = cleanupAfterEach();

const logged: string[] = [];
const recordingLogger = { ...silentLogger, warn: (m: string) => void logged.push(m), info: (m: string) => void logged.push(m) };

let mysqlServer: MysqlServer;
beforeAll(async () => {
  mysqlServer = await startMysqlServer();
}, 240_000);
afterAll(async () => {
  await mysqlServer?.remove();
}, 60_000);

function mysqlOptions(conn: string): Partial<ServerOptions> {
  const parsed = parseMysqlConnection(conn);
  if (!parsed.connection) throw new Error(parsed.error);
  return { users: [], mysqlUserDb: parsed.connection };
}

const startServer = (overrides: Partial<ServerOptions>): Promise<TurnServer> => startInProcessServer(cleanups, overrides, recordingLogger);

const { clientOf, allocateAs } = allocationHelpers(cleanups);
const code = errorCode;

type Db = { name: string; sql: (text: string, values?: unknown[]) => Promise<unknown> };

/** A database with coturn's schema; `sql` runs statements on it. */
async function newDb(): Promise<Db> {
  return connect(await mysqlServer.newDatabase());
}

/** A new connection (after a restart the test's own connections are gone). */
async function connect(name: string): Promise<Db> {
  const client = await mysqlServer.client(name);
  return { name, sql: (text, values) => client.query(text, values) };
}

const addUser = (db: Db, name: string, password: string) =>
  db.sql('INSERT INTO turnusers_lt (realm, name, hmackey) VALUES (?, ?, ?)', [REALM, name, longTermKey(name, REALM, password).toString('hex')]);

/** dora's relay with channel 0x4001 bound to a fresh peer (closed after the test). */
async function channelToPeer(server: TurnServer) {
  const client = await clientOf(server, { username: 'dora', password: 'explorer' });
  const peer = await openPeer();
  cleanups.push(() => new Promise<void>((r) => peer.socket.close(() => r())));
  const relay = await client.allocateRelay();
  expect((await client.channelBind(0x4001, peer.address)).cls).toBe(StunClass.SuccessResponse);
  return { client, peer, relay };
}

const rest = (secret: string): Credentials => {
  const username = `${Math.floor(Date.now() / 1000) + 3600}:rest-user`;
  return { username, password: restPassword(secret, username) };
};

describe('the MySQL user database (mysql-userdb)', () => {
  it("authenticates a user stored in coturn's schema, and relays for it", async () => {
    const db = await newDb();
    await addUser(db, 'dora', 'explorer');
    const server = await startServer(mysqlOptions(mysqlServer.connectionString(db.name)));
    const { client, peer, relay } = await channelToPeer(server);
    client.sendChannelData(0x4001, Buffer.from('to the peer'));
    expect((await peer.next()).data.toString()).toBe('to the peer');
    peer.socket.send(Buffer.from('back'), relay.port, relay.address);
    expect((await client.nextDatagram()).data.subarray(4).toString()).toBe('back');
    expect(code(await allocateAs(server, { username: 'dora', password: 'wrong' }))).toBe(401);
  });

  it('counts users added while the server runs at once, and removed ones no more (coturn key aliases)', async () => {
    const db = await newDb();
    const conn = `ip=127.0.0.1 db=${db.name} uname=turn pwd=turn p=${mysqlServer.port} timeout=10 read_timeout=5`;
    const server = await startServer(mysqlOptions(conn));
    expect(code(await allocateAs(server, { username: 'eve', password: 'later' }))).toBe(401);
    await addUser(db, 'eve', 'later');
    expect(succeeded(await allocateAs(server, { username: 'eve', password: 'later' }))).toBe(true);
    await db.sql('DELETE FROM turnusers_lt WHERE name = ?', ['eve']);
    expect(code(await allocateAs(server, { username: 'eve', password: 'later' }))).toBe(401);
  });

  it('accepts a REST API secret added to turn_secret at once, and no more once it is removed', async () => {
    const db = await newDb();
    const server = await startServer({ ...mysqlOptions(mysqlServer.connectionString(db.name)), useAuthSecret: true, staticAuthSecrets: [] });
    expect(code(await allocateAs(server, rest('logen')))).toBe(401);
    await db.sql('INSERT INTO turn_secret (realm, value) VALUES (?, ?), (?, ?)', [REALM, 'logen', REALM, 'rotated-in']);
    expect(succeeded(await allocateAs(server, rest('logen')))).toBe(true);
    expect(succeeded(await allocateAs(server, rest('rotated-in')))).toBe(true);
    await db.sql('DELETE FROM turn_secret WHERE value = ?', ['logen']);
    expect(code(await allocateAs(server, rest('logen')))).toBe(401);
    expect(succeeded(await allocateAs(server, rest('rotated-in')))).toBe(true);
  });

  it("applies the realm's user-quota from turn_realm_option", async () => {
    const db = await newDb();
    await addUser(db, 'dora', 'explorer');
    await db.sql("INSERT INTO turn_realm_option (realm, opt, value) VALUES (?, 'user-quota', '1')", [REALM]);
    const server = await startServer(mysqlOptions(mysqlServer.connectionString(db.name)));
    expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
    expect(code(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(486);
  });

  it('keeps relaying and answers known users while MySQL is stopped, says so once, and once when it is back', async () => {
    logged.length = 0;
    const db = await newDb();
    await addUser(db, 'dora', 'explorer');
    const server = await startServer(mysqlOptions(mysqlServer.connectionString(db.name)));
    const { client, peer } = await channelToPeer(server);

    await mysqlServer.stop();
    try {
      client.sendChannelData(0x4001, Buffer.from('while the database is down'));
      expect((await peer.next()).data.toString()).toBe('while the database is down');
      expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
      expect(code(await allocateAs(server, { username: 'dora', password: 'wrong' }))).toBe(401);
      expect(code(await allocateAs(server, { username: 'never-seen', password: 'x' }))).toBe(401);
      expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
      expect(logged.filter((m) => /MySQL user database .* is unreachable/.test(m))).toHaveLength(1);
    } finally {
      await mysqlServer.restart();
    }
    expect(await eventually(async () => logged.some((m) => /MySQL user database .* is reachable again/.test(m)), 15_000)).toBe(true);
    await addUser(await connect(db.name), 'eve', 'later');
    expect(succeeded(await allocateAs(server, { username: 'eve', password: 'later' }))).toBe(true);
    expect(logged.filter((m) => /is unreachable/.test(m))).toHaveLength(1);
    expect(logged.filter((m) => /is reachable again/.test(m))).toHaveLength(1);
  }, 60_000);

  it('starts while MySQL does not answer, and uses it once it does', async () => {
    logged.length = 0;
    const db = await newDb();
    await mysqlServer.stop();
    let server: TurnServer;
    try {
      server = await startServer(mysqlOptions(mysqlServer.connectionString(db.name)));
      expect(logged.filter((m) => /MySQL user database .* is unreachable/.test(m))).toHaveLength(1);
      expect(code(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(401);
    } finally {
      await mysqlServer.restart();
    }
    await addUser(await connect(db.name), 'dora', 'explorer');
    expect(await eventually(async () => succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' })), 15_000)).toBe(true);
  }, 60_000);
});

/** `turnpike admin ARGV` in this process: exit status, stdout lines, stderr. */
async function admin(...argv: string[]): Promise<{ code: number; out: string[]; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err: err.join('\n') };
}

describe('turnadmin -M and turnpike admin credentials on MySQL', () => {
  it("signs REST credentials with the realm's secret from mysql-userdb, and the server accepts them", async () => {
    const db = await newDb();
    const conn = mysqlServer.connectionString(db.name);
    expect(await admin('-s', 'from-mysql', '-r', REALM, '-M', conn)).toEqual({ code: 0, out: [], err: '' });
    const printed = await admin('credentials', '--user', 'web', '-n', '--use-auth-secret', '--realm', REALM, '--mysql-userdb', conn);
    expect(printed.code, printed.err).toBe(0);
    const value = (label: string) => printed.out.find((l) => l.startsWith(`${label}: `))!.slice(label.length + 2);
    expect(value('password')).toBe(restPassword('from-mysql', value('username')));
    const server = await startServer({ ...mysqlOptions(conn), useAuthSecret: true, staticAuthSecrets: [] });
    expect(succeeded(await allocateAs(server, { username: value('username'), password: value('password') }))).toBe(true);
  });

  it('says what is wrong, naming the database without its password: no coturn schema, nothing listening, a bad string', async () => {
    const empty = `turndb_empty_${process.pid}`;
    await (await mysqlServer.client()).query(`CREATE DATABASE ${empty}`);
    expect(await admin('-l', '-M', mysqlServer.connectionString(empty))).toEqual({
      code: 1,
      out: [],
      err: `turnadmin: user database mysql://turn@127.0.0.1:${mysqlServer.port}/${empty}: Table '${empty}.turnusers_lt' doesn't exist (it does not have coturn's schema: mysql DATABASE < /usr/share/coturn/schema.sql)`,
    });
    const port = await freeTcpPort();
    const down = await admin('-a', '-u', 'x', '-r', 'r', '-p', 'p', '-M', `host=127.0.0.1 port=${port} dbname=coturn user=turn password=hunter2`);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(new RegExp(`^turnadmin: user database mysql://turn@127.0.0.1:${port}/coturn: .*ECONNREFUSED`));
    expect(down.err).not.toContain('hunter2');
    expect(await admin('-l', '-M', 'host=127.0.0.1 sslmode=require')).toEqual({ code: 1, out: [], err: 'turnadmin: -M: unknown key "sslmode" (coturn refuses it too)' });
  });
});
