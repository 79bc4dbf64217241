// What every SQL user database (psql-userdb, mysql-userdb) must do, proven the same way on each
// real server: users, REST secrets and realm options from coturn's schema, read per lookup;
// relaying and known users going on while the database is stopped, with one log line each way.
import { describe, expect, it } from 'vitest';
import { runAdmin } from '../../src/admin/index.js';
import { restPassword } from '../../src/auth/rest-api.js';
import type { ServerOptions } from '../../src/config/server-options.js';
import type { TurnServer } from '../../src/server.js';
import { StunClass, longTermKey } from '../../src/stun/index.js';
import { silentLogger } from '../../src/log/logger-interface.js';
import { allocationHelpers, errorCode, eventually, succeeded } from './allocations.js';
import { cleanupAfterEach } from './cleanups.js';
import { startInProcessServer } from './in-process-server.js';
import { REALM } from './server-options.js';
import { openPeer, type Credentials } from './turn-client.js';
import { relayThreadHelpers } from './relay-threads.js';

/** A database with coturn's schema; `sql` runs a statement with `?` placeholders on it. */
export interface TestDb {
  readonly name: string;
  sql(text: string, values?: unknown[]): Promise<unknown>;
}

export interface SqlServerHarness {
  /** As the server's log lines name it: "PostgreSQL", "MySQL". */
  readonly kind: string;
  newDb(): Promise<TestDb>;
  /** A new connection to `name` (after a restart the test's own connections are gone). */
  connect(name: string): Promise<TestDb>;
  /** The server's options for database `name`: coturn's documented form, or another form it accepts. */
  options(name: string, form: 'documented' | 'other'): Partial<ServerOptions>;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

/** Per test file: servers and clients closed after each test, log lines recorded. */
export function userDbTestKit() {
  const cleanups = cleanupAfterEach();
  const logged: string[] = [];
  const recordingLogger = { ...silentLogger, warn: (m: string) => void logged.push(m), info: (m: string) => void logged.push(m) };
  const startServer = (overrides: Partial<ServerOptions>): Promise<TurnServer> => startInProcessServer(cleanups, overrides, recordingLogger);
  return { cleanups, logged, recordingLogger, startServer, ...allocationHelpers(cleanups) };
}

/** `turnpike admin ARGV` in this process: exit status, stdout lines, stderr. */
export async function admin(...argv: string[]): Promise<{ code: number; out: string[]; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err: err.join('\n') };
}

export const addUser = (db: TestDb, name: string, password: string) =>
  db.sql('INSERT INTO turnusers_lt (realm, name, hmackey) VALUES (?, ?, ?)', [REALM, name, longTermKey(name, REALM, password).toString('hex')]);

const rest = (secret: string): Credentials => {
  const username = `${Math.floor(Date.now() / 1000) + 3600}:rest-user`;
  return { username, password: restPassword(secret, username) };
};

export function describeSqlUserDb(title: string, kit: ReturnType<typeof userDbTestKit>, h: SqlServerHarness): void {
  const { cleanups, logged, recordingLogger, startServer, clientOf, allocateAs } = kit;
  const { startThreaded, allocationsOnBothWorkers } = relayThreadHelpers(cleanups);
  const code = errorCode;

  /** dora's relay with channel 0x4001 bound to a fresh peer (closed after the test). */
  async function channelToPeer(server: TurnServer) {
    const client = await clientOf(server, { username: 'dora', password: 'explorer' });
    const peer = await openPeer();
    cleanups.push(() => new Promise<void>((r) => peer.socket.close(() => r())));
    const relay = await client.allocateRelay();
    expect((await client.channelBind(0x4001, peer.address)).cls).toBe(StunClass.SuccessResponse);
    return { client, peer, relay };
  }

  describe(title, () => {
    it("authenticates a user stored in coturn's schema (coturn's documented connection string), and relays for it", async () => {
      const db = await h.newDb();
      await addUser(db, 'dora', 'explorer');
      const server = await startServer(h.options(db.name, 'documented'));
      const { client, peer, relay } = await channelToPeer(server);
      client.sendChannelData(0x4001, Buffer.from('to the peer'));
      expect((await peer.next()).data.toString()).toBe('to the peer');
      peer.socket.send(Buffer.from('back'), relay.port, relay.address);
      expect((await client.nextDatagram()).data.subarray(4).toString()).toBe('back');
      expect(code(await allocateAs(server, { username: 'dora', password: 'wrong' }))).toBe(401);
    });

    it('counts users added while the server runs at once, and removed ones no more (the other connection string form)', async () => {
      const db = await h.newDb();
      const server = await startServer(h.options(db.name, 'other'));
      expect(code(await allocateAs(server, { username: 'eve', password: 'later' }))).toBe(401);
      await addUser(db, 'eve', 'later');
      expect(succeeded(await allocateAs(server, { username: 'eve', password: 'later' }))).toBe(true);
      await db.sql('DELETE FROM turnusers_lt WHERE name = ?', ['eve']);
      expect(code(await allocateAs(server, { username: 'eve', password: 'later' }))).toBe(401);
    });

    it('accepts a REST API secret added to turn_secret at once, and no more once it is removed', async () => {
      const db = await h.newDb();
      const server = await startServer({ ...h.options(db.name, 'documented'), useAuthSecret: true, staticAuthSecrets: [] });
      expect(code(await allocateAs(server, rest('logen')))).toBe(401);
      await db.sql('INSERT INTO turn_secret (realm, value) VALUES (?, ?), (?, ?)', [REALM, 'logen', REALM, 'rotated-in']);
      expect(succeeded(await allocateAs(server, rest('logen')))).toBe(true);
      expect(succeeded(await allocateAs(server, rest('rotated-in')))).toBe(true);
      await db.sql('DELETE FROM turn_secret WHERE value = ?', ['logen']);
      expect(code(await allocateAs(server, rest('logen')))).toBe(401);
      expect(succeeded(await allocateAs(server, rest('rotated-in')))).toBe(true);
    });

    it("applies the realm's user-quota from turn_realm_option", async () => {
      const db = await h.newDb();
      await addUser(db, 'dora', 'explorer');
      await db.sql("INSERT INTO turn_realm_option (realm, opt, value) VALUES (?, 'user-quota', '1')", [REALM]);
      const server = await startServer(h.options(db.name, 'documented'));
      expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
      expect(code(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(486);
    });

    it(`keeps relaying and answers known users while ${h.kind} is stopped, says so once, and once when it is back`, async () => {
      logged.length = 0;
      const db = await h.newDb();
      await addUser(db, 'dora', 'explorer');
      const server = await startServer(h.options(db.name, 'documented'));
      const { client, peer } = await channelToPeer(server);
      const unreachable = new RegExp(`${h.kind} user database .* is unreachable`);

      await h.stop();
      try {
        client.sendChannelData(0x4001, Buffer.from('while the database is down'));
        expect((await peer.next()).data.toString()).toBe('while the database is down');
        expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
        expect(code(await allocateAs(server, { username: 'dora', password: 'wrong' }))).toBe(401);
        expect(code(await allocateAs(server, { username: 'never-seen', password: 'x' }))).toBe(401);
        expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
        expect(logged.filter((m) => unreachable.test(m))).toHaveLength(1);
      } finally {
        await h.restart();
      }
      expect(await eventually(async () => logged.some((m) => new RegExp(`${h.kind} user database .* is reachable again`).test(m)), 15_000)).toBe(true);
      await addUser(await h.connect(db.name), 'eve', 'later');
      expect(succeeded(await allocateAs(server, { username: 'eve', password: 'later' }))).toBe(true);
      expect(logged.filter((m) => /is unreachable/.test(m))).toHaveLength(1);
      expect(logged.filter((m) => /is reachable again/.test(m))).toHaveLength(1);
    }, 60_000);

    it(`answers a user one relay worker looked up on every worker while ${h.kind} is stopped, and says so once for the server (relay-threads=2)`, async () => {
      logged.length = 0;
      const db = await h.newDb();
      await addUser(db, 'dora', 'explorer');
      const server = await startThreaded(h.options(db.name, 'documented'), recordingLogger);
      // dora is looked up once, by the one worker this socket reaches.
      expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
      const unreachable = () => logged.filter((m) => new RegExp(`${h.kind} user database .* is unreachable`).test(m));
      const back = () => logged.filter((m) => new RegExp(`${h.kind} user database .* is reachable again`).test(m));

      await h.stop();
      try {
        expect(await allocationsOnBothWorkers(server, { username: 'dora', password: 'explorer' })).toEqual({ workers: new Set([0, 1]), failures: [] });
        // Many sockets, so both workers refuse it, and both find the database gone.
        for (let i = 0; i < 16; i++) expect(code(await allocateAs(server, { username: 'dora', password: 'wrong' }))).toBe(401);
        expect(unreachable()).toHaveLength(1);
      } finally {
        await h.restart();
      }
      // Back once every worker has found it back (each probes every second).
      expect(await eventually(async () => back().length > 0, 15_000)).toBe(true);
      await addUser(await h.connect(db.name), 'eve', 'later');
      for (let i = 0; i < 8; i++) expect(succeeded(await allocateAs(server, { username: 'eve', password: 'later' }))).toBe(true);
      expect(unreachable()).toHaveLength(1);
      expect(back()).toHaveLength(1);
    }, 90_000);

    it(`starts while ${h.kind} does not answer, and uses it once it does`, async () => {
      logged.length = 0;
      const db = await h.newDb();
      await h.stop();
      let server: TurnServer;
      try {
        server = await startServer(h.options(db.name, 'documented'));
        expect(logged.filter((m) => new RegExp(`${h.kind} user database .* is unreachable`).test(m))).toHaveLength(1);
        expect(code(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(401);
      } finally {
        await h.restart();
      }
      await addUser(await h.connect(db.name), 'dora', 'explorer');
      expect(await eventually(async () => succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' })), 15_000)).toBe(true);
    }, 60_000);
  });
}
