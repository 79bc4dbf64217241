// The web admin page on a server whose users live in PostgreSQL (psql-userdb) or Redis
// (redis-userdb), not SQLite: an admin user made with `turnadmin -A` on that database logs in,
// and a user added from the page is written there by turnadmin's own code and allocates at
// once. (The page's views are proven in headless Chromium by web-admin.test.ts; here its HTTP
// API is enough.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runTurnadmin } from '../../src/admin/turnadmin.js';
import { StunClass } from '../../src/stun/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startPgServer } from '../support/pg-server.js';
import { freePortRange, freeTcpPort, freeUdpTcpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { startRedisServer } from '../support/redis-server.js';
import { UdpTestClient } from '../support/turn-client.js';
import { startTurnpike } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
const REALM = 'db.example';
const cleanups = cleanupAfterEach();

afterAll(() => stopAllProcesses());

async function turnadmin(...argv: string[]): Promise<void> {
  const errors: string[] = [];
  const status = await runTurnadmin(argv, { out: () => {}, err: (line) => errors.push(line) });
  expect(status, errors.join('\n')).toBe(0);
}

/** Logs in with an admin user; returns what later requests need. */
async function logIn(adminUrl: string, user: string, password: string): Promise<{ status: number; headers: Record<string, string> }> {
  const login = await fetch(`${adminUrl}login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user, password }) });
  if (login.status !== 200) return { status: login.status, headers: {} };
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const me = (await (await fetch(`${adminUrl}api/me`, { headers: { cookie } })).json()) as { csrf: string };
  return { status: 200, headers: { cookie, 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf } };
}

/** A database of one kind: its turnadmin flag and server option, and the user names stored in it. */
interface TestDatabase {
  readonly flag: '-e' | '-N';
  readonly option: 'psql-userdb' | 'redis-userdb';
  readonly conn: string;
  storedUsers(): Promise<string[]>;
}

async function postgres(): Promise<TestDatabase> {
  const server = await startPgServer();
  cleanups.push(() => server.remove());
  const name = await server.newDatabase();
  return {
    flag: '-e', option: 'psql-userdb', conn: server.keyValue(name),
    storedUsers: async () => (await (await server.client(name)).query('SELECT name FROM turnusers_lt')).rows.map((r: { name: string }) => r.name),
  };
}

async function redis(): Promise<TestDatabase> {
  const server = await startRedisServer(cleanups);
  const client = new Redis({ host: HOST, port: server.port, lazyConnect: true });
  cleanups.push(() => client.disconnect());
  return {
    flag: '-N', option: 'redis-userdb', conn: `ip=${HOST} port=${server.port} dbname=0`,
    storedUsers: async () => (await client.keys(`turn/realm/${REALM}/user/*/key`)).map((k) => k.split('/')[4]!),
  };
}

describe.each([
  ['PostgreSQL (psql-userdb)', postgres],
  ['Redis (redis-userdb)', redis],
])('web admin on %s', (_name, open) => {
  it('logs in the admin user turnadmin -A made there, refuses a wrong password, and adds a user there that allocates at once', async () => {
    const db = await open();
    await turnadmin('-A', db.flag, db.conn, '-u', 'db-admin', '-p', 'db-Admin-Pa55');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-web-admin-db-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const turnPort = await freeUdpTcpPort(HOST);
    const minPort = await freePortRange(HOST, 20);
    const webPort = await freeTcpPort(HOST);
    const conf = path.join(dir, 'turnserver.conf');
    fs.writeFileSync(conf, [
      `listening-ip=${HOST}`, `listening-port=${turnPort}`, `relay-ip=${HOST}`, `min-port=${minPort}`, `max-port=${minPort + 19}`,
      `realm=${REALM}`, 'lt-cred-mech', `${db.option}="${db.conn}"`, 'no-tls', 'no-dtls', 'web-admin', `web-admin-port=${webPort}`, '',
    ].join('\n'));
    const server = await startTurnpike(['-c', conf], HOST, turnPort);
    cleanups.push(() => server.stop());
    await server.proc.waitForOutput(/web admin at http:\/\/127\.0\.0\.1:\d+\//, 10_000);
    const adminUrl = `http://${HOST}:${webPort}/`;

    expect((await logIn(adminUrl, 'db-admin', 'wrong')).status).toBe(401);
    const { status, headers } = await logIn(adminUrl, 'db-admin', 'db-Admin-Pa55');
    expect(status).toBe(200);

    const added = await fetch(`${adminUrl}api/userdb`, { method: 'POST', headers, body: JSON.stringify({ action: 'add-user', user: 'carol', realm: REALM, password: 'carol-Pa55' }) });
    expect(added.status).toBe(200);
    const listing = (await added.json()) as { users: { name: string; realm: string }[] };
    expect(listing.users).toContainEqual({ name: 'carol', realm: REALM });
    expect(await db.storedUsers()).toEqual(['carol']);

    const client = await UdpTestClient.open({ address: HOST, port: turnPort }, { username: 'carol', password: 'carol-Pa55' });
    cleanups.push(() => client.close());
    expect((await client.allocate()).cls).toBe(StunClass.SuccessResponse);
  }, 60_000);
});
