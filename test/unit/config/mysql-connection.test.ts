// coturn's MySQL connection string (mysql-userdb): space-separated key=value pairs with the
// aliases of coturn's driver, and how mysql-userdb meets the other user databases.
import { afterAll, describe, expect, it } from 'vitest';
import { describeMysqlConnection, parseMysqlConnection } from '../../../src/config/mysql-connection.js';
import { load, loadError, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

describe('parseMysqlConnection', () => {
  it("reads coturn's documented example, timeouts included", () => {
    expect(parseMysqlConnection('host=localhost dbname=coturn user=turn password=turn port=3306 connect_timeout=10 read_timeout=10')).toEqual({
      connection: {
        host: 'localhost', port: 3306, database: 'coturn', user: 'turn', password: 'turn',
        connectTimeoutSeconds: 10, readTimeoutSeconds: 10, ssl: undefined,
      },
      error: undefined,
    });
  });

  it("has coturn's defaults: 127.0.0.1, port 3306, database \"0\", empty user and password", () => {
    expect(parseMysqlConnection('').connection).toEqual({
      host: '127.0.0.1', port: 3306, database: '0', user: '', password: '', connectTimeoutSeconds: 0, readTimeoutSeconds: 0, ssl: undefined,
    });
  });

  it("reads coturn's aliases, and its TLS keys (any one turns TLS on)", () => {
    const c = parseMysqlConnection('hostaddr=10.0.0.7 database=d username=u secret=s p=3307 timeout=4 ssl-ca=/ca.pem capath=/cas cert=/c.pem ssl-key=/k.pem cipher=AES256-SHA').connection!;
    expect(c).toMatchObject({ host: '10.0.0.7', database: 'd', user: 'u', password: 's', port: 3307, connectTimeoutSeconds: 4 });
    expect(c.ssl).toEqual({ ca: '/ca.pem', capath: '/cas', cert: '/c.pem', key: '/k.pem', cipher: 'AES256-SHA' });
  });

  it('refuses what coturn refuses (an unknown key, a pair without "="), and numbers that are not numbers', () => {
    expect(parseMysqlConnection('host=db sslmode=require').error).toBe('unknown key "sslmode" (coturn refuses it too)');
    expect(parseMysqlConnection('host=db coturn').error).toBe('"coturn" is not key=value');
    expect(parseMysqlConnection('port=abc').error).toBe('port=abc: not a number');
    expect(parseMysqlConnection('port=70000').error).toBe('port=70000: not a port');
    expect(parseMysqlConnection('read_timeout=1s').error).toBe('read_timeout=1s: not a number');
  });

  it('is described in logs without its password', () => {
    const c = parseMysqlConnection('host=db.internal dbname=coturn user=turn password=hunter2').connection!;
    expect(describeMysqlConnection(c)).toBe('mysql://turn@db.internal:3306/coturn');
  });
});

describe('mysql-userdb in the configuration', () => {
  const AUTH = 'lt-cred-mech\nrealm=example.org\n';

  it('is applied: no "not applied" warning, the connection in the options (-M too)', () => {
    const { options, warnings } = load(`${AUTH}mysql-userdb="host=127.0.0.1 dbname=coturn user=turn password=turn connect_timeout=30"\n`);
    expect(warnings).toEqual([]);
    expect(options.mysqlUserDb).toMatchObject({ host: '127.0.0.1', database: 'coturn', user: 'turn', password: 'turn' });
    expect(options.userDb).toBeUndefined();
    expect(load(AUTH, ['-M', 'host=db dbname=coturn']).options.mysqlUserDb).toMatchObject({ host: 'db', database: 'coturn' });
  });

  it('with userdb or psql-userdb too, the one given last wins, as in coturn (-b, -e, -M and -N set one database)', () => {
    const both = load(`${AUTH}userdb=/tmp/turnpike-none.db\nmysql-userdb=host=127.0.0.1\n`);
    expect(both.options.mysqlUserDb).toBeDefined();
    expect(both.options.userDb).toBeUndefined();
    expect(both.warnings.some((w) => /mysql-userdb, given last, is used and userdb is ignored/.test(w))).toBe(true);
    const cli = load(`${AUTH}mysql-userdb=host=127.0.0.1\n`, ['--psql-userdb', 'host=127.0.0.1']);
    expect(cli.options.psqlUserDb).toBeDefined();
    expect(cli.options.mysqlUserDb).toBeUndefined();
  });

  it('refuses to start with a connection string it cannot use', () => {
    expect(loadError(() => load(`${AUTH}mysql-userdb=host=127.0.0.1 colour=blue\n`)).message).toMatch(/mysql-userdb.*unknown key "colour"/);
  });
});
