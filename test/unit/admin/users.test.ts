// turnadmin -k, -a, -d, -l on a real SQLite file: keys as coturn stores them, listings as it prints them.
import { createHash } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COTURN_SCHEMA } from '../../../src/auth/userdb.js';
import { admin, newDbPath, ok, removeTempDirs, rows } from './helpers.js';

afterAll(removeTempDirs);

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('-k (print the key)', () => {
  it("prints coturn's documented key for ninefingers, and nothing else", async () => {
    const r = await admin('-k', '-u', 'ninefingers', '-r', 'north.gov', '-p', 'youhavetoberealistic');
    expect(r).toEqual({ code: 0, out: ['0xbc807ee29df3c9ffa736523fb2c4e8ee'], err: '' });
  });

  it('takes long options and getopt forms (-kp pw, -uNAME, --realm=R)', async () => {
    expect(await ok('--key', '--user=ninefingers', '--realm', 'north.gov', '--password', 'youhavetoberealistic')).toEqual([
      '0xbc807ee29df3c9ffa736523fb2c4e8ee',
    ]);
    // Measured with coturn 4.6.1: `turnadmin -kp pw -u x -r r` prints this.
    expect(await ok('-kp', 'pw', '-ux', '-rr')).toEqual(['0xfe4eb65af1091864ead342efebdbe05e']);
  });

  it('without -r prints the key of the empty realm, as coturn does, and warns on stderr', async () => {
    const r = await admin('-k', '-u', 'a', '-p', 'b');
    expect(r.code).toBe(0);
    expect(r.out).toEqual([`0x${md5('a::b')}`]);
    expect(r.err).toMatch(/warning: no realm/);
  });

  it('needs no database', async () => {
    expect(await ok('-k', '-u', 'a', '-r', 'r', '-p', 'b', '-b', '/nonexistent/folder/turndb')).toHaveLength(1);
  });
});

describe('-a (add or update a user)', () => {
  it('creates the database with coturn schema and stores 32 lowercase hex digits of MD5(user:realm:password)', async () => {
    const db = newDbPath();
    expect(await ok('-a', '-b', db, '-u', 'ninefingers', '-r', 'north.gov', '-p', 'youhavetoberealistic')).toEqual([]);
    expect(rows(db, 'SELECT realm, name, hmackey FROM turnusers_lt')).toEqual([
      { realm: 'north.gov', name: 'ninefingers', hmackey: 'bc807ee29df3c9ffa736523fb2c4e8ee' },
    ]);
    const tables = rows(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map(
      (t) => (t as { name: string }).name,
    );
    const expected = [...COTURN_SCHEMA.matchAll(/CREATE TABLE (\w+)/g)].map((m) => m[1]).sort();
    expect(tables).toEqual(expected);
  });

  it('replaces the key when the same name is added again in the same realm', async () => {
    const db = newDbPath();
    await ok('-a', '-b', db, '-u', 'alice', '-r', 'north.gov', '-p', 'first');
    await ok('-a', '-b', db, '-u', 'alice', '-r', 'north.gov', '-p', 'second');
    expect(rows(db, 'SELECT name, hmackey FROM turnusers_lt')).toEqual([
      { name: 'alice', hmackey: md5('alice:north.gov:second') },
    ]);
  });

  it('keeps the same name in two realms apart', async () => {
    const db = newDbPath();
    await ok('-a', '-b', db, '-u', 'alice', '-r', 'north.gov', '-p', 'p1');
    await ok('-a', '-b', db, '-u', 'alice', '-r', 'south.gov', '-p', 'p2');
    expect(rows(db, 'SELECT count(*) AS n FROM turnusers_lt')).toEqual([{ n: 2 }]);
  });

  it('accepts a non-ASCII name that SASLprep leaves alone, warning that coturn\'s turnadmin would not', async () => {
    const db = newDbPath();
    const r = await admin('-a', '-b', db, '-u', 'Ünï', '-r', 'r', '-p', 'pässwörd');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: coturn's own turnadmin refuses the name "Ünï"/);
    expect(rows(db, 'SELECT name, hmackey FROM turnusers_lt')).toEqual([{ name: 'Ünï', hmackey: md5('Ünï:r:pässwörd') }]);
  });
});

describe('-l (list users)', () => {
  const db = newDbPath();
  beforeAll(async () => {
    await ok('-a', '-b', db, '-u', 'zed', '-r', 'north.gov', '-p', 'p');
    await ok('-a', '-b', db, '-u', 'bob', '-r', 'south.gov', '-p', 'p');
    await ok('-a', '-b', db, '-u', 'alice', '-r', 'north.gov', '-p', 'p');
  });

  it('prints name[realm], by realm then name, as coturn does', async () => {
    expect(await ok('-l', '-b', db)).toEqual(['alice[north.gov]', 'zed[north.gov]', 'bob[south.gov]']);
  });

  it('lists one realm with -r', async () => {
    expect(await ok('-l', '-b', db, '-r', 'north.gov')).toEqual(['alice[north.gov]', 'zed[north.gov]']);
    expect(await ok('--list', '--db', db, '--realm=nowhere')).toEqual([]);
  });

  it('prints name[] for a user of the empty realm (coturn schema\'s default)', async () => {
    const file = newDbPath();
    await ok('-a', '-b', file, '-u', 'x', '-r', 'r', '-p', 'p');
    const conn = new DatabaseSync(file);
    conn.prepare("INSERT INTO turnusers_lt (name, hmackey) VALUES ('y', ?)").run(md5('y::p'));
    conn.close();
    expect(await ok('-l', '-b', file)).toEqual(['y[]', 'x[r]']);
  });
});

describe('-d (delete a user)', () => {
  it('deletes the user of that realm only', async () => {
    const db = newDbPath();
    await ok('-a', '-b', db, '-u', 'alice', '-r', 'north.gov', '-p', 'p');
    await ok('-a', '-b', db, '-u', 'alice', '-r', 'south.gov', '-p', 'p');
    expect(await ok('-d', '-b', db, '-u', 'alice', '-r', 'north.gov')).toEqual([]);
    expect(await ok('-l', '-b', db)).toEqual(['alice[south.gov]']);
  });

  it('exits 0 with a note on stderr when there is no such user (coturn exits 0 silently)', async () => {
    const db = newDbPath();
    await ok('-a', '-b', db, '-u', 'alice', '-r', 'north.gov', '-p', 'p');
    const r = await admin('-d', '-b', db, '-u', 'nobody', '-r', 'north.gov');
    expect(r.code).toBe(0);
    expect(r.out).toEqual([]);
    expect(r.err).toMatch(/no user "nobody" in realm "north.gov"; nothing deleted/);
  });

  it('needs the realm, as coturn does', async () => {
    const db = newDbPath();
    const r = await admin('-d', '-b', db, '-u', 'alice');
    expect(r.code).toBe(1);
    expect(r.err).toBe('turnadmin: -d: the realm must be set (-r REALM)');
  });
});
