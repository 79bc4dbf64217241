// coturn's MySQL/MariaDB user database (mysql-userdb): users, REST secrets and realm options in
// coturn's schema, read from a real MariaDB server started here on a free port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restPassword } from '../../src/auth/rest-api.js';
import { parseMysqlConnection } from '../../src/config/mysql-connection.js';
import { startMysqlServer, type MysqlServer } from '../support/mysql-server.js';
import { succeeded } from '../support/allocations.js';
import { freeTcpPort } from '../support/ports.js';
import { REALM } from '../support/server-options.js';
import { admin, describeSqlUserDb, userDbTestKit, type TestDb } from '../support/sql-userdb-suite.js';

const kit = userDbTestKit();

let mysqlServer: MysqlServer;
beforeAll(async () => {
  mysqlServer = await startMysqlServer();
}, 240_000);
afterAll(async () => {
  await mysqlServer?.remove();
}, 60_000);

function mysqlOptions(conn: string) {
  const parsed = parseMysqlConnection(conn);
  if (!parsed.connection) throw new Error(parsed.error);
  return { users: [], mysqlUserDb: parsed.connection };
}

async function connect(name: string): Promise<TestDb> {
  const client = await mysqlServer.client(name);
  return { name, sql: (text, values) => client.query(text, values) };
}

describeSqlUserDb('the MySQL user database (mysql-userdb)', kit, {
  kind: 'MySQL',
  newDb: async () => connect(await mysqlServer.newDatabase()),
  connect,
  options: (name, form) =>
    mysqlOptions(
      form === 'documented'
        ? mysqlServer.connectionString(name)
        : `ip=127.0.0.1 db=${name} uname=turn pwd=turn p=${mysqlServer.port} timeout=10 read_timeout=5`, // coturn's aliases
    ),
  stop: () => mysqlServer.stop(),
  restart: () => mysqlServer.restart(),
});

describe('turnadmin -M and turnpike admin credentials on MySQL', () => {
  it("signs REST credentials with the realm's secret from mysql-userdb, and the server accepts them", async () => {
    const conn = mysqlServer.connectionString(await mysqlServer.newDatabase());
    expect(await admin('-s', 'from-mysql', '-r', REALM, '-M', conn)).toEqual({ code: 0, out: [], err: '' });
    const printed = await admin('credentials', '--user', 'web', '-n', '--use-auth-secret', '--realm', REALM, '--mysql-userdb', conn);
    expect(printed.code, printed.err).toBe(0);
    const value = (label: string) => printed.out.find((l) => l.startsWith(`${label}: `))!.slice(label.length + 2);
    expect(value('password')).toBe(restPassword('from-mysql', value('username')));
    const server = await kit.startServer({ ...mysqlOptions(conn), useAuthSecret: true, staticAuthSecrets: [] });
    expect(succeeded(await kit.allocateAs(server, { username: value('username'), password: value('password') }))).toBe(true);
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
