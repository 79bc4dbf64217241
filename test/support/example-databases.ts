// The user databases coturn's database example scripts name, started for the run: Redis,
// PostgreSQL and MariaDB of the test's own (temp data, free loopback port) instead of the
// scripts' implied localhost servers, their connection strings rewritten to point there, and
// the flags that point coturn's turnadmin at them (SQLite: the scripts' var/db/turndb).
import { issueCertificate, makeCertificate } from './certs.js';
import type { ExamplesDir } from './example-scripts.js';
import { startMysqlServer } from './mysql-server.js';
import { startPgServer } from './pg-server.js';
import { freeTcpPort } from './ports.js';
import { startProcess, waitUntilReady } from './processes.js';

export type ExampleDatabaseKind = 'sqlite' | 'redis' | 'psql' | 'mysql';

export interface ExampleDatabase {
  /** Text replacements in the server scripts: their connection strings pointed at this server. */
  readonly replacements: ReadonlyMap<string, string>;
  /** turnadmin's flags that name the same user database. */
  readonly turnadmin: readonly string[];
  stop(): Promise<unknown>;
}

/** The database the scripts name: `coturn` (PostgreSQL, MySQL), as user turn, password turn. */
const DATABASE = 'coturn';
/** How the PostgreSQL and MySQL scripts name their server: libpq's and libmysqlclient's local default. */
const SCRIPTS_HOST = `host=localhost dbname=${DATABASE}`;

export async function startExampleDatabase(examples: ExamplesDir, kind: ExampleDatabaseKind): Promise<ExampleDatabase> {
  switch (kind) {
    case 'sqlite':
      return { replacements: new Map(), turnadmin: ['-b', 'var/db/turndb'], stop: async () => {} };
    case 'redis':
      return startExampleRedis(examples);
    case 'psql':
      return startExamplePostgres();
    case 'mysql':
      return startExampleMysql();
  }
}

/**
 * redis-server as the Redis scripts expect it (password turn), on a free loopback port instead
 * of their implied 6379, nothing saved to disk; the scripts' userdb is dbname 2, statsdb 3.
 */
async function startExampleRedis(examples: ExamplesDir): Promise<ExampleDatabase> {
  const port = await freeTcpPort('127.0.0.1');
  // --dir: whatever it writes on shutdown stays in the examples dir.
  const proc = startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', 'turn', '--save', '', '--appendonly', 'no', '--dir', examples.dir]);
  await waitUntilReady(proc, proc.waitForOutput(/Ready to accept connections/, 10_000).then(() => undefined), 'redis-server');
  return {
    replacements: new Map([['password=turn connect_timeout', `password=turn port=${port} connect_timeout`]]),
    turnadmin: ['-N', `ip=127.0.0.1 port=${port} dbname=2 password=turn`],
    stop: () => proc.stop(),
  };
}

/** PostgreSQL (test/support/pg-server.ts) with the scripts' database `coturn` and coturn's schema. */
async function startExamplePostgres(): Promise<ExampleDatabase> {
  const pg = await startPgServer();
  return withScriptsDatabase(pg, ['-e', pg.keyValue(DATABASE)]);
}

/**
 * MariaDB (test/support/mysql-server.ts) with the scripts' database `coturn` and coturn's
 * schema, offering TLS (mysql_ssl's `cipher=` turns it on) with a certificate made for the run:
 * an RSA one, as mysql_ssl's cipher (DHE-RSA-AES256-SHA) needs.
 */
async function startExampleMysql(): Promise<ExampleDatabase> {
  const ca = makeCertificate('mariadb-ca');
  const certificate = issueCertificate(ca, 'mariadb', { rsa: true });
  try {
    const mysql = await startMysqlServer({ tls: certificate });
    return await withScriptsDatabase(mysql, ['-M', mysql.connectionString(DATABASE)]);
  } finally {
    certificate.remove();
    ca.remove();
  }
}

interface SqlServer {
  readonly port: number;
  newDatabase(name: string): Promise<string>;
  remove(): Promise<void>;
}

/** The scripts' database made on `server` (removed if that fails), their connection strings pointed at it. */
async function withScriptsDatabase(server: SqlServer, turnadmin: readonly string[]): Promise<ExampleDatabase> {
  try {
    await server.newDatabase(DATABASE);
  } catch (err) {
    await server.remove();
    throw err;
  }
  return {
    replacements: new Map([[SCRIPTS_HOST, `host=127.0.0.1 port=${server.port} dbname=${DATABASE}`]]),
    turnadmin,
    stop: () => server.remove(),
  };
}
