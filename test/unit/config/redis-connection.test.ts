// coturn's Redis connection string (redis-userdb), and how it meets userdb.
import { afterAll, describe, expect, it } from 'vitest';
import { describeRedisConnection, parseRedisConnection } from '../../../src/config/redis-connection.js';
import { load, loadError, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

describe('parseRedisConnection', () => {
  it("has coturn's defaults: 127.0.0.1, port 6379, database 0, no password", () => {
    expect(parseRedisConnection('')).toEqual({
      connection: { host: '127.0.0.1', port: 6379, db: 0, username: undefined, password: undefined, connectTimeoutSeconds: 0 },
      warnings: [],
      error: undefined,
    });
  });

  it("reads coturn's documented example and its aliases", () => {
    expect(parseRedisConnection('ip=10.0.0.5 dbname=2 password=turn port=6380 connect_timeout=30').connection).toEqual({
      host: '10.0.0.5', port: 6380, db: 2, username: undefined, password: 'turn', connectTimeoutSeconds: 30,
    });
    expect(parseRedisConnection('  host=redis.internal   db=3 user=turnsrv passwd=x p=7000 timeout=5 ').connection).toEqual({
      host: 'redis.internal', port: 7000, db: 3, username: 'turnsrv', password: 'x', connectTimeoutSeconds: 5,
    });
  });

  it('warns about an unknown key and ignores it', () => {
    const parsed = parseRedisConnection('ip=127.0.0.1 colour=blue');
    expect(parsed.error).toBeUndefined();
    expect(parsed.connection?.host).toBe('127.0.0.1');
    expect(parsed.warnings).toEqual(['unknown key "colour" in the Redis connection string, ignored (coturn refuses it)']);
  });

  it('refuses what it cannot use: a bare word, a bad port or database, TLS', () => {
    expect(parseRedisConnection('127.0.0.1').error).toBe('"127.0.0.1" is not key=value');
    expect(parseRedisConnection('port=99999').error).toMatch(/not a port/);
    expect(parseRedisConnection('dbname=two').error).toMatch(/database is a number/);
    expect(parseRedisConnection('tls=1').error).toMatch(/TLS to Redis is not supported/);
  });

  it('is described in logs without its password', () => {
    const c = parseRedisConnection('ip=::1 password=hunter2 dbname=1').connection!;
    expect(describeRedisConnection(c)).toBe('redis://[::1]:6379/1');
  });
});

describe('redis-userdb in the configuration', () => {
  const AUTH = 'lt-cred-mech\nrealm=example.org\n';

  it('is applied: no "not applied" warning, the connection in the options', () => {
    const { options, warnings } = load(`${AUTH}redis-userdb="ip=127.0.0.1 dbname=2 password=turn"\n`);
    expect(warnings).toEqual([]);
    expect(options.redisUserDb).toMatchObject({ host: '127.0.0.1', db: 2, password: 'turn', port: 6379 });
    expect(options.userDb).toBeUndefined();
  });

  it('with userdb too, the one given last wins, as in coturn (-b and -N set the same database)', () => {
    const both = load(`${AUTH}userdb=/tmp/turnpike-none.db\nredis-userdb=ip=127.0.0.1\n`);
    expect(both.options.redisUserDb).toBeDefined();
    expect(both.options.userDb).toBeUndefined();
    expect(both.warnings.some((w) => /redis-userdb, given last, is used and userdb is ignored/.test(w))).toBe(true);
    const cli = load(`${AUTH}redis-userdb=ip=127.0.0.1\n`, ['--userdb', '/tmp/turnpike-none.db']);
    expect(cli.options.userDb).toBe('/tmp/turnpike-none.db');
    expect(cli.options.redisUserDb).toBeUndefined();
  });

  it('refuses to start with a connection string it cannot use', () => {
    expect(loadError(() => load(`${AUTH}redis-userdb=ip=127.0.0.1 tls=1\n`)).message).toMatch(/redis-userdb.*TLS to Redis is not supported/);
  });
});

describe('redis-statsdb in the configuration', () => {
  const AUTH = 'lt-cred-mech\nrealm=example.org\n';

  it('is applied, with the same connection string as redis-userdb, beside it', () => {
    const { options, warnings } = load(`${AUTH}redis-userdb="ip=127.0.0.1 dbname=2"\nredis-statsdb="ip=10.0.0.5 dbname=3 password=turn"\n`);
    expect(warnings).toEqual([]);
    expect(options.redisStatsDb).toMatchObject({ host: '10.0.0.5', db: 3, password: 'turn', port: 6379 });
    expect(options.redisUserDb).toMatchObject({ host: '127.0.0.1', db: 2 });
    expect(load(AUTH).options.redisStatsDb).toBeUndefined();
  });

  it('refuses to start with a connection string it cannot use', () => {
    expect(loadError(() => load(`${AUTH}redis-statsdb=port=x\n`)).message).toMatch(/redis-statsdb.*port=x: not a port/);
  });
});
