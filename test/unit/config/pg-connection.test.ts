// coturn's PostgreSQL connection string (psql-userdb): libpq's key=value form and
// postgresql:// URIs, and how psql-userdb meets the other user databases.
import { afterAll, describe, expect, it } from 'vitest';
import { describePgConnection, parsePgConnection } from '../../../src/config/pg-connection.js';
import { load, loadError, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

const NO_ENV = {};

describe('parsePgConnection', () => {
  it("reads coturn's documented key=value example", () => {
    expect(parsePgConnection('host=localhost dbname=coturn user=turn password=turn connect_timeout=30', NO_ENV)).toEqual({
      connection: {
        host: 'localhost', port: 5432, database: 'coturn', user: 'turn', password: 'turn', connectTimeoutSeconds: 30,
        sslMode: 'prefer', sslRootCert: undefined, sslCert: undefined, sslKey: undefined, applicationName: undefined,
      },
      warnings: [],
      error: undefined,
    });
  });

  it("reads libpq's quoting and spacing: 'quoted values', \\' and \\\\ inside, spaces around =", () => {
    const c = parsePgConnection("host = db.internal  port=6543 password='it\\'s two' user='o\\'neil' dbname='my db\\\\x'", NO_ENV).connection!;
    expect(c).toMatchObject({ host: 'db.internal', port: 6543, user: "o'neil", database: 'my db\\x' });
    expect(c.password).toBe("it's two");
  });

  it('reads a postgresql:// URI: user, percent-encoded password, host, port, database, parameters', () => {
    const c = parsePgConnection('postgresql://turn:p%40ss@10.0.0.7:5433/coturn?connect_timeout=5&sslmode=require', NO_ENV).connection!;
    expect(c).toMatchObject({ host: '10.0.0.7', port: 5433, database: 'coturn', user: 'turn', password: 'p@ss', connectTimeoutSeconds: 5, sslMode: 'require' });
    expect(parsePgConnection('postgres://u@[::1]/d', NO_ENV).connection).toMatchObject({ host: '::1', port: 5432, database: 'd', user: 'u' });
    expect(parsePgConnection('postgresql://u@%2Fvar%2Frun%2Fpostgresql/d', NO_ENV).connection?.host).toBe('/var/run/postgresql');
  });

  it("has libpq's defaults: Debian's socket folder, port 5432, the database named as the user", () => {
    const c = parsePgConnection('user=turn', NO_ENV).connection!;
    expect(c).toMatchObject({ host: '/var/run/postgresql', port: 5432, database: 'turn', user: 'turn', password: undefined });
    expect(parsePgConnection('', { PGHOST: 'pg.env', PGPORT: '6000', PGUSER: 'envuser' }).connection).toMatchObject({ host: 'pg.env', port: 6000, user: 'envuser', database: 'envuser' });
  });

  it('refuses what libpq refuses, warns about what Turnpike ignores', () => {
    expect(parsePgConnection('host=x colour=blue', NO_ENV).error).toBe('invalid connection option "colour" (libpq refuses it too)');
    expect(parsePgConnection('host', NO_ENV).error).toBe('missing "=" after "host" in the connection string');
    expect(parsePgConnection("password='open", NO_ENV).error).toBe('unterminated quoted value of "password"');
    expect(parsePgConnection('port=99999', NO_ENV).error).toMatch(/not a port/);
    expect(parsePgConnection('sslmode=sometimes', NO_ENV).error).toMatch(/sslmode=sometimes: not one of/);
    expect(parsePgConnection('postgresql://a,b/d', NO_ENV).error).toMatch(/several hosts/);
    const ignored = parsePgConnection('host=x keepalives=1', NO_ENV);
    expect(ignored.error).toBeUndefined();
    expect(ignored.warnings).toEqual(['"keepalives" in the PostgreSQL connection string is ignored by Turnpike']);
  });

  it('is described in logs without its password', () => {
    const c = parsePgConnection('host=::1 user=turn password=hunter2 dbname=coturn', NO_ENV).connection!;
    expect(describePgConnection(c)).toBe('postgresql://turn@[::1]:5432/coturn');
  });
});

describe('psql-userdb in the configuration', () => {
  const AUTH = 'lt-cred-mech\nrealm=example.org\n';

  it('is applied under each of its names: no "not applied" warning, the connection in the options', () => {
    for (const name of ['psql-userdb', 'sql-userdb']) {
      const { options, warnings } = load(`${AUTH}${name}="host=127.0.0.1 dbname=coturn user=turn password=turn connect_timeout=30"\n`);
      expect(warnings).toEqual([]);
      expect(options.psqlUserDb).toMatchObject({ host: '127.0.0.1', database: 'coturn', user: 'turn', password: 'turn' });
      expect(options.userDb).toBeUndefined();
    }
    expect(load(AUTH, ['-e', 'postgresql://turn@db/coturn']).options.psqlUserDb).toMatchObject({ host: 'db', database: 'coturn' });
  });

  it('with userdb or redis-userdb too, the one given last wins, as in coturn (-b, -e and -N set one database)', () => {
    const both = load(`${AUTH}userdb=/tmp/turnpike-none.db\npsql-userdb=host=127.0.0.1\n`);
    expect(both.options.psqlUserDb).toBeDefined();
    expect(both.options.userDb).toBeUndefined();
    expect(both.warnings.some((w) => /psql-userdb, given last, is used and userdb is ignored/.test(w))).toBe(true);
    const cli = load(`${AUTH}psql-userdb=host=127.0.0.1\n`, ['--redis-userdb', 'ip=127.0.0.1']);
    expect(cli.options.redisUserDb).toBeDefined();
    expect(cli.options.psqlUserDb).toBeUndefined();
  });

  it('refuses to start with a connection string it cannot use', () => {
    expect(loadError(() => load(`${AUTH}psql-userdb=host=127.0.0.1 colour=blue\n`)).message).toMatch(/psql-userdb.*invalid connection option "colour"/);
  });
});
