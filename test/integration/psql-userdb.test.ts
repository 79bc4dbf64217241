// coturn's PostgreSQL user database (psql-userdb): users, REST secrets and realm options in
// coturn's schema, read from a real PostgreSQL server started here on a free port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restPassword } from '../../src/auth/rest-api.js';
import { numbered } from '../../src/auth/sql-userdb.js';
import { parsePgConnection } from '../../src/config/pg-connection.js';
import { succeeded } from '../support/allocations.js';
import { freeTcpPort } from '../support/ports.js';
import { startPgServer, type PgServer } from '../support/pg-server.js';
import { REALM } from '../support/server-options.js';
import { admin, describeSqlUserDb, userDbTestKit, type TestDb } from '../support/sql-userdb-suite.js';

const kit = userDbTestKit();

let pgServer: PgServer;
beforeAll(async () => {
  pgServer = await startPgServer();
}, 120_000);
afterAll(async () => {
  await pgServer?.remove();
});

function pgOptions(conn: string) {
  const parsed = parsePgConnection(conn);
  if (!parsed.connection) throw new Error(parsed.error);
  return { users: [], psqlUserDb: parsed.connection };
}

async function connect(name: string): Promise<TestDb> {
  const client = await pgServer.client(name);
  return { name, sql: (text, values) => client.query(numbered(text), values) };
}

describeSqlUserDb('the PostgreSQL user database (psql-userdb)', kit, {
  kind: 'PostgreSQL',
  newDb: async () => connect(await pgServer.newDatabase()),
  connect,
  // libpq's key=value form, and a postgresql:// URI.
  options: (name, form) => pgOptions(form === 'documented' ? pgServer.keyValue(name) : pgServer.uri(name)),
  stop: () => pgServer.stop(),
  restart: () => pgServer.restart(),
});

describe('turnadmin -e and turnpike admin credentials on PostgreSQL', () => {
  it("signs REST credentials with the realm's secret from psql-userdb, and the server accepts them", async () => {
    const conn = pgServer.keyValue(await pgServer.newDatabase());
    expect(await admin('-s', 'from-postgres', '-r', REALM, '-e', conn)).toEqual({ code: 0, out: [], err: '' });
    const printed = await admin('credentials', '--user', 'web', '-n', '--use-auth-secret', '--realm', REALM, '--psql-userdb', conn);
    expect(printed.code, printed.err).toBe(0);
    const value = (label: string) => printed.out.find((l) => l.startsWith(`${label}: `))!.slice(label.length + 2);
    expect(value('password')).toBe(restPassword('from-postgres', value('username')));
    const server = await kit.startServer({ ...pgOptions(conn), useAuthSecret: true, staticAuthSecrets: [] });
    expect(succeeded(await kit.allocateAs(server, { username: value('username'), password: value('password') }))).toBe(true);
  });

  it("says what is wrong, naming the database without its password: no coturn schema, nothing listening", async () => {
    const empty = `turndb_empty_${process.pid}`;
    await (await pgServer.client('postgres')).query(`CREATE DATABASE ${empty}`);
    expect(await admin('-l', '-e', pgServer.keyValue(empty))).toEqual({
      code: 1,
      out: [],
      err: `turnadmin: user database postgresql://turn@127.0.0.1:${pgServer.port}/${empty}: relation "turnusers_lt" does not exist (it does not have coturn's schema: psql -f /usr/share/coturn/schema.sql)`,
    });
    const port = await freeTcpPort();
    const down = await admin('-a', '-u', 'x', '-r', 'r', '-p', 'p', '-e', `postgresql://turn:hunter2@127.0.0.1:${port}/coturn`);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(new RegExp(`^turnadmin: user database postgresql://turn@127.0.0.1:${port}/coturn: .*ECONNREFUSED`));
    expect(down.err).not.toContain('hunter2');
  });
});
