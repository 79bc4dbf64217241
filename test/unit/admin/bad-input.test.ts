// What turnadmin refuses, and how: exit 2 with the usage line for a bad command line, exit 1
// with one clear line for bad input or an unusable database, and never a stack trace.
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveDbPath } from '../../../src/admin/database.js';
import { admin, newDbPath, ok, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

const USAGE = /^Usage: turnadmin COMMAND /m;

describe('command-line errors: exit 2 and the usage line', () => {
  it.each([
    [['-l', '-q'], 'turnadmin: unknown option -q'],
    [['--bogus'], 'turnadmin: unknown option --bogus'],
    [['-b', 'x.db'], 'turnadmin: no command given'],
    [[], 'turnadmin: no command given'],
    [['-a', '-l', '-u', 'x'], 'turnadmin: two commands given (-a and -l); give one'],
    [['-l', 'extra'], 'turnadmin: unexpected argument "extra"'],
    [['-l', '-b'], 'turnadmin: option -b needs a value'],
    [['--list=yes'], 'turnadmin: option --list takes no value'],
    [['--de', '-u', 'x'], /^turnadmin: option --de is ambiguous \(--delete, --delete-admin, /],
  ])('%j', async (argv, message) => {
    const r = await admin(...argv);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    const [first] = r.err.split('\n');
    if (typeof message === 'string') expect(first).toBe(message);
    else expect(first).toMatch(message);
    expect(r.err).toMatch(USAGE);
  });

  it('the same command twice is one command', async () => {
    expect((await admin('-k', '-k', '-u', 'a', '-r', 'r', '-p', 'p')).code).toBe(0);
  });

  it('-h and --help print the help on stdout, exit 0', async () => {
    for (const flag of ['-h', '--help', '--he']) {
      const r = await admin(flag);
      expect(r.code).toBe(0);
      expect(r.out[0]).toBe('Usage: turnadmin [command] [options]');
      expect(r.out.join('\n')).toContain('--delete-all-secrets');
    }
  });

  it('a value may start with a dash, as with getopt (-p -secret)', async () => {
    expect(await ok('-k', '-u', 'a', '-r', 'r', '-p', '-secret')).toHaveLength(1);
  });
});

describe('bad input: exit 1 and one line on stderr', () => {
  const db = newDbPath();
  const add = async (user: string, realm = 'r', password = 'p') => admin('-a', '-b', db, '-u', user, '-r', realm, '-p', password);

  it.each([
    ['ctl\u0001x', 'the user name "ctl\\u0001x" has a control character (U+0001)'],
    ['tab\tx', 'the user name "tab\\tx" has a control character (U+0009)'],
    ['del\u007f', 'the user name "del\\u007f" has a control character (U+007F)'],
    ['private\uE000', 'the user name "private\\ue000" has a character that SASLprep (RFC 4013) prohibits'],
    ['soft\u00ADhyphen', 'the user name "soft\\u00adhyphen" changes under SASLprep (it becomes "softhyphen"); use that form'],
    ['\uFB01le', 'the user name "\uFB01le" changes under SASLprep (it becomes "file"); use that form'],
    ['a b', 'the user name "a b" has a space, tab, quote or backslash, which coturn refuses in user names'],
    ["o'neil", `the user name "o'neil" has a space, tab, quote or backslash, which coturn refuses in user names`],
    ['back\\slash', 'the user name "back\\\\slash" has a space, tab, quote or backslash, which coturn refuses in user names'],
    ['UnionSelect', 'the user name "UnionSelect" contains both "union" and "select", which coturn refuses'],
  ])('user name %j', async (user, message) => {
    const r = await add(user);
    expect(r).toEqual({ code: 1, out: [], err: `turnadmin: ${message}` });
  });

  it('the same rules for -k and -A', async () => {
    expect((await admin('-k', '-u', 'a b', '-r', 'r', '-p', 'p')).code).toBe(1);
    expect((await admin('-A', '-b', db, '-u', 'a\u0000', '-p', 'p')).code).toBe(1);
  });

  it('realms with a control character or a quote, and passwords SASLprep prohibits', async () => {
    expect((await add('u', 'c\u0001r')).err).toBe('turnadmin: the realm "c\\u0001r" has a control character (U+0001)');
    expect((await add('u', "o'r")).err).toBe(`turnadmin: the realm "o'r" has a quote ('), which coturn cannot look up`);
    expect((await add('u', 'r', 'p\u0001')).err).toBe(
      'turnadmin: the password has a character that SASLprep (RFC 4013) prohibits (a control character?)',
    );
    expect((await add('u', 'r', '')).err).toBe('turnadmin: -a: the password is empty');
  });

  it('-a without -r, -u or -p says what is missing, as coturn does', async () => {
    expect(await admin('-a', '-b', db, '-u', 'carol', '-p', 'pw')).toMatchObject({
      code: 1,
      err: 'turnadmin: -a: the realm must be set (-r REALM)',
    });
    expect((await admin('--add', '-b', db, '-r', 'r', '-p', 'pw')).err).toBe('turnadmin: --add: the user must be set (-u USER)');
    expect((await admin('-a', '-b', db, '-u', 'carol', '-r', 'r')).err).toBe('turnadmin: -a: the password must be set (-p PASSWORD)');
  });

  it.each([
    ['-J', 'MongoDB'],
  ])('%s: "not supported yet"', async (flag, what) => {
    const r = await admin('-l', flag, 'host=db.example');
    expect(r).toEqual({
      code: 1,
      out: [],
      err: `turnadmin: ${flag}: ${what} user databases are not supported yet; use an SQLite file with -b`,
    });
  });

  it('-N to a Redis that is not there: exit 1, saying where and why', async () => {
    const r = await admin('-l', '-N', 'ip=127.0.0.1 port=1');
    expect(r).toEqual({ code: 1, out: [], err: 'turnadmin: Redis user database redis://127.0.0.1:1/0: cannot connect: connect ECONNREFUSED 127.0.0.1:1' });
    expect(await admin('-l', '-N', 'port=x')).toEqual({ code: 1, out: [], err: 'turnadmin: -N: port=x: not a port' });
  });

  it('-E (AES): "not supported yet"', async () => {
    expect(await admin('-E', '-p', 'x')).toMatchObject({ code: 1, err: 'turnadmin: -E: AES-encrypted passwords are not supported yet' });
  });
});

describe('database problems: exit 1 and a message that names the file', () => {
  it.each(['-l', '-L', '-S', '-I', '-G'])('%s on a missing file: refused, and no file is created', async (command) => {
    const db = newDbPath();
    expect(await admin(command, '-b', db)).toEqual({ code: 1, out: [], err: `turnadmin: user database ${db} does not exist` });
    expect(fs.existsSync(db)).toBe(false);
  });

  it('a SQLite file without coturn schema', async () => {
    const db = newDbPath();
    const other = new DatabaseSync(db);
    other.exec('CREATE TABLE notes (text)');
    other.close();
    const r = await admin('-a', '-b', db, '-u', 'u', '-r', 'r', '-p', 'p');
    expect(r).toEqual({ code: 1, out: [], err: `turnadmin: ${db} is not a coturn user database (it has no turnusers_lt table)` });
  });

  it('a file that is not SQLite at all', async () => {
    const db = newDbPath();
    fs.writeFileSync(db, 'user=alice:secret\n'.repeat(100));
    expect(await admin('-l', '-b', db)).toEqual({
      code: 1,
      out: [],
      err: `turnadmin: cannot open user database ${db}: file is not a database`,
    });
  });

  it('a folder that does not exist', async () => {
    const db = path.join(tempDir(), 'missing', 'turndb');
    const r = await admin('-a', '-b', db, '-u', 'u', '-r', 'r', '-p', 'p');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^turnadmin: cannot open user database ${db}: .*directory does not exist`));
  });

  it('a coturn database without one of the tables (an older schema)', async () => {
    const db = newDbPath();
    await ok('-a', '-b', db, '-u', 'u', '-r', 'r', '-p', 'p');
    const conn = new DatabaseSync(db);
    conn.exec('DROP TABLE turn_origin_to_realm');
    conn.close();
    expect((await admin('-I', '-b', db)).err).toBe(
      `turnadmin: user database ${db}: no such table: turn_origin_to_realm (it does not have coturn 4.6's schema)`,
    );
  });

  it('a database another process holds locked: waits 1 s, then says so; works once the lock is gone', async () => {
    const db = newDbPath();
    await ok('-a', '-b', db, '-u', 'alice', '-r', 'r', '-p', 'p');
    const holder = new DatabaseSync(db);
    holder.exec('BEGIN EXCLUSIVE');
    try {
      for (const argv of [['-l', '-b', db], ['-a', '-b', db, '-u', 'bob', '-r', 'r', '-p', 'p']]) {
        const started = Date.now();
        const r = await admin(...argv);
        expect(Date.now() - started).toBeGreaterThanOrEqual(950);
        expect(r).toEqual({
          code: 1,
          out: [],
          err: `turnadmin: user database ${db} is locked by another process (waited 1 s); try again`,
        });
      }
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(await ok('-l', '-b', db)).toEqual(['alice[r]']);
  });

  it('without -b: the first default that exists; to write, else the first whose folder exists', async () => {
    const dir = tempDir();
    const [a, b, c] = ['a/turndb', 'b/turndb', 'c/turndb'].map((p) => path.join(dir, p));
    const candidates = [a ?? '', b ?? '', c ?? ''];
    expect(() => resolveDbPath(undefined, 'read', candidates)).toThrow(/no user database found .*give one with -b FILE/);
    fs.mkdirSync(path.join(dir, 'c'));
    expect(resolveDbPath(undefined, 'write', candidates)).toBe(c);
    fs.mkdirSync(path.join(dir, 'b'));
    fs.writeFileSync(b ?? '', '');
    expect(resolveDbPath(undefined, 'read', candidates)).toBe(b);
    expect(resolveDbPath('~/turndb', 'read', candidates)).toBe(path.join(process.env.HOME ?? '', 'turndb'));
  });
});
