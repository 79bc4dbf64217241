// The web admin page on a server whose users live in PostgreSQL (psql-userdb), not SQLite: an
// admin user made with `turnadmin -e -A` logs in, a user added from the page is written to
// PostgreSQL by turnadmin's own code and allocates at once. (The page's views are proven in
// headless Chromium by web-admin.test.ts; here its HTTP API is enough.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTurnadmin } from '../../src/admin/turnadmin.js';
import { StunClass } from '../../src/stun/index.js';
import { startPgServer, type PgServer } from '../support/pg-server.js';
import { freePortRange, freeTcpPort, freeUdpTcpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { UdpTestClient } from '../support/turn-client.js';
import { startTurnpike } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
const REALM = 'sql.example';

let dir: string;
let pgServer: PgServer;
let conn: string;
let turnPort: number;
let adminUrl: string;

async function turnadmin(...argv: string[]): Promise<void> {
  const errors: string[] = [];
  const status = await runTurnadmin(argv, { out: () => {}, err: (line) => errors.push(line) });
  expect(status, errors.join('\n')).toBe(0);
}

/** Logs in with an admin user; returns what later requests need. */
async function logIn(user: string, password: string): Promise<{ status: number; headers: Record<string, string> }> {
  const login = await fetch(`${adminUrl}login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user, password }) });
  if (login.status !== 200) return { status: login.status, headers: {} };
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const me = (await (await fetch(`${adminUrl}api/me`, { headers: { cookie } })).json()) as { csrf: string };
  return { status: 200, headers: { cookie, 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf } };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-web-admin-sql-'));
  pgServer = await startPgServer();
  conn = pgServer.keyValue(await pgServer.newDatabase());
  await turnadmin('-A', '-e', conn, '-u', 'pg-admin', '-p', 'pg-Admin-Pa55');
  turnPort = await freeUdpTcpPort(HOST);
  const minPort = await freePortRange(HOST, 20);
  const webPort = await freeTcpPort(HOST);
  const conf = path.join(dir, 'turnserver.conf');
  fs.writeFileSync(conf, [
    `listening-ip=${HOST}`, `listening-port=${turnPort}`, `relay-ip=${HOST}`, `min-port=${minPort}`, `max-port=${minPort + 19}`,
    `realm=${REALM}`, 'lt-cred-mech', `psql-userdb="${conn}"`, 'no-tls', 'no-dtls', 'web-admin', `web-admin-port=${webPort}`, '',
  ].join('\n'));
  const server = await startTurnpike(['-c', conf], HOST, turnPort);
  await server.proc.waitForOutput(/web admin at http:\/\/127\.0\.0\.1:\d+\//, 10_000);
  adminUrl = `http://${HOST}:${webPort}/`;
}, 120_000);

afterAll(async () => {
  await stopAllProcesses();
  await pgServer?.remove();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('web admin on psql-userdb', () => {
  it('logs in the admin user turnadmin -e made, refuses a wrong password, and adds a user to PostgreSQL that allocates at once', async () => {
    expect((await logIn('pg-admin', 'wrong')).status).toBe(401);
    const { status, headers } = await logIn('pg-admin', 'pg-Admin-Pa55');
    expect(status).toBe(200);

    const added = await fetch(`${adminUrl}api/userdb`, { method: 'POST', headers, body: JSON.stringify({ action: 'add-user', user: 'carol', realm: REALM, password: 'carol-Pa55' }) });
    expect(added.status).toBe(200);
    const listing = (await added.json()) as { users: { name: string; realm: string }[] };
    expect(listing.users).toContainEqual({ name: 'carol', realm: REALM });
    const rows = await (await pgServer.client(conn.match(/dbname=(\S+)/)![1]!)).query('SELECT name, realm FROM turnusers_lt');
    expect(rows.rows).toEqual([{ name: 'carol', realm: REALM }]);

    const client = await UdpTestClient.open({ address: HOST, port: turnPort }, { username: 'carol', password: 'carol-Pa55' });
    try {
      expect((await client.allocate()).cls).toBe(StunClass.SuccessResponse);
    } finally {
      client.close();
    }
  }, 60_000);
});
