// turnadmin's per-realm data: REST secrets (-s -S -X --delete-all-secrets), origins (-O -R -I),
// realm options (-g -G), each listing in coturn's format and order.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalOrigin } from '../../../src/admin/origin.js';
import { admin, newDbPath, ok, removeTempDirs, rows } from './helpers.js';

afterAll(removeTempDirs);

describe('REST API secrets', () => {
  it('adds (-s), shows (-S) as secret[realm] by realm then value, and filters with -r', async () => {
    const db = newDbPath();
    await ok('-s', 'sec1', '-b', db, '-r', 'north.gov');
    await ok('--set-secret=sec2', '-b', db, '-r', 'north.gov');
    await ok('-s', 'zz', '-b', db, '-r', 'south.gov');
    await ok('-saa', '-b', db, '-r', 'north.gov');
    await ok('-s', 'zz', '-b', db, '-r', 'south.gov'); // again: still one row
    expect(await ok('-S', '-b', db)).toEqual(['aa[north.gov]', 'sec1[north.gov]', 'sec2[north.gov]', 'zz[south.gov]']);
    expect(await ok('-S', '-b', db, '-r', 'north.gov')).toEqual(['aa[north.gov]', 'sec1[north.gov]', 'sec2[north.gov]']);
    expect(rows(db, 'SELECT count(*) AS n FROM turn_secret')).toEqual([{ n: 4 }]);
  });

  it('deletes one secret (-X) and all of a realm (--delete-all-secrets)', async () => {
    const db = newDbPath();
    for (const [s, r] of [['a', 'north.gov'], ['b', 'north.gov'], ['c', 'south.gov']]) await ok('-s', s ?? '', '-b', db, '-r', r ?? '');
    await ok('-X', 'a', '-b', db, '-r', 'north.gov');
    expect(await ok('-S', '-b', db)).toEqual(['b[north.gov]', 'c[south.gov]']);
    await ok('--delete-all-secrets', '-b', db, '-r', 'north.gov');
    expect(await ok('-S', '-b', db)).toEqual(['c[south.gov]']);
    const again = await admin('--delete-all-secrets', '-b', db, '-r', 'north.gov');
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/realm "north.gov" has no secrets; nothing deleted/);
  });

  it('-X deletes only in the given realm', async () => {
    const db = newDbPath();
    await ok('-s', 'shared', '-b', db, '-r', 'north.gov');
    await ok('-s', 'shared', '-b', db, '-r', 'south.gov');
    await ok('-X', 'shared', '-b', db, '-r', 'south.gov');
    expect(await ok('-S', '-b', db)).toEqual(['shared[north.gov]']);
  });

  it('needs a realm for -s, -X and --delete-all-secrets, and a non-empty secret', async () => {
    const db = newDbPath();
    expect(await admin('-s', 'x', '-b', db)).toMatchObject({ code: 1, err: 'turnadmin: -s: the realm must be set (-r REALM)' });
    expect(await admin('-X', 'x', '-b', db)).toMatchObject({ code: 1, err: 'turnadmin: -X: the realm must be set (-r REALM)' });
    expect(await admin('--delete-all-secrets', '-b', db)).toMatchObject({
      code: 1,
      err: 'turnadmin: --delete-all-secrets: the realm must be set (-r REALM)',
    });
    expect(await admin('-s', '', '-b', db, '-r', 'r')).toMatchObject({ code: 1, err: 'turnadmin: -s: the secret is empty' });
  });
});

describe('origins', () => {
  it("stores coturn's canonical form and lists origin ==>> realm by realm then origin", async () => {
    const db = newDbPath();
    await ok('-O', '-b', db, '-o', 'HTTP://Example.COM:443/path', '-r', 'north.gov');
    await ok('--add-origin', '-b', db, '--origin', 'https://b.org', '-r', 'north.gov');
    await ok('-O', '-b', db, '-o', 'http://c.net', '-r', 'south.gov');
    expect(await ok('-I', '-b', db)).toEqual([
      'http://example.com:443 ==>> north.gov',
      'https://b.org:443 ==>> north.gov',
      'http://c.net:80 ==>> south.gov',
    ]);
    expect(await ok('-I', '-b', db, '-r', 'south.gov')).toEqual(['http://c.net:80 ==>> south.gov']);
  });

  it('deletes by origin in any spelling of it (-R), with no realm needed', async () => {
    const db = newDbPath();
    await ok('-O', '-b', db, '-o', 'https://b.org', '-r', 'north.gov');
    await ok('-R', '-b', db, '-o', 'HTTPS://B.ORG:443/');
    expect(await ok('-I', '-b', db)).toEqual([]);
  });

  it('an origin maps to one realm: adding it again moves it', async () => {
    const db = newDbPath();
    await ok('-O', '-b', db, '-o', 'https://b.org', '-r', 'north.gov');
    await ok('-O', '-b', db, '-o', 'https://b.org', '-r', 'south.gov');
    expect(await ok('-I', '-b', db)).toEqual(['https://b.org:443 ==>> south.gov']);
  });

  it('needs -o (and -r for -O)', async () => {
    const db = newDbPath();
    expect(await admin('-O', '-b', db, '-r', 'r')).toMatchObject({ code: 1, err: 'turnadmin: -O: the origin must be set (-o ORIGIN)' });
    expect(await admin('-O', '-b', db, '-o', 'http://a')).toMatchObject({ code: 1, err: 'turnadmin: -O: the realm must be set (-r REALM)' });
    expect(await admin('-R', '-b', db)).toMatchObject({ code: 1, err: 'turnadmin: -R: the origin must be set (-o ORIGIN)' });
  });

  it.each([
    // What coturn 4.6.1 stored for each (measured).
    ['example.com', 'example.com'],
    ['Example.com:8080', 'Example.com:8080'],
    ['ws://x.io', 'ws://x.io'],
    ['http://[::1]/a', 'http://[::1]:80'],
    ['https://User@h.com:99/x?y', 'https://h.com:99'],
    ['ftp://f.org', 'ftp://f.org:21'],
    ['http://h.com:abc', 'http://h.com:abc'],
    ['HTTPS://H.COM', 'https://h.com:443'],
    ['//h.com', '//h.com'],
    ['http://', 'http://'],
    ['http://a.b.c/', 'http://a.b.c:80'],
  ])('canonical origin of %s is %s, as in coturn', async (given, stored) => {
    expect(canonicalOrigin(given)).toBe(stored);
  });
});

describe('realm options', () => {
  it('sets (-g) and lists (-G) option[realm]=value by realm then option', async () => {
    const db = newDbPath();
    await ok('-g', '-b', db, '-r', 'north.gov', '--max-bps', '100000', '--total-quota', '10');
    await ok('--set-realm-option', '-b', db, '-r', 'south.gov', '--user-quota=3');
    expect(await ok('-G', '-b', db)).toEqual(['max-bps[north.gov]=100000', 'total-quota[north.gov]=10', 'user-quota[south.gov]=3']);
    expect(await ok('-G', '-b', db, '-r', 'south.gov')).toEqual(['user-quota[south.gov]=3']);
    expect(await ok('--list-realm-option', '-b', db, '-r', 'nowhere')).toEqual([]); // coturn 4.6.1's long name
  });

  it('replaces a value, and zero removes the option', async () => {
    const db = newDbPath();
    await ok('-g', '-b', db, '-r', 'north.gov', '--max-bps', '100000', '--user-quota', '5');
    await ok('-g', '-b', db, '-r', 'north.gov', '--max-bps', '200', '--user-quota', '0');
    expect(await ok('-G', '-b', db)).toEqual(['max-bps[north.gov]=200']);
    await ok('-g', '-b', db, '-r', 'north.gov', '--max-bps', '0');
    expect(await ok('-G', '-b', db)).toEqual([]);
  });

  it('stores the value as coturn does: decimal text', async () => {
    const db = newDbPath();
    await ok('-g', '-b', db, '-r', 'r', '--total-quota', '007');
    expect(rows(db, 'SELECT realm, opt, value, typeof(value) AS t FROM turn_realm_option')).toEqual([
      { realm: 'r', opt: 'total-quota', value: '7', t: 'text' },
    ]);
  });

  it('refuses values that are not whole numbers (coturn would read "12abc" as 12), and a -g with no option', async () => {
    const db = newDbPath();
    for (const bad of ['-5', 'abc', '12abc', '1.5', '2147483648']) {
      const r = await admin('-g', '-b', db, '-r', 'r', '--user-quota', bad);
      expect(r.code, bad).toBe(1);
      expect(r.err).toBe(`turnadmin: --user-quota: "${bad}" is not a whole number from 0 to 2147483647`);
    }
    expect(await admin('-g', '-b', db, '-r', 'r')).toMatchObject({
      code: 1,
      err: 'turnadmin: -g: a realm option must be set (--max-bps, --total-quota or --user-quota)',
    });
    expect(await admin('-g', '-b', db, '--max-bps', '1')).toMatchObject({ code: 1, err: 'turnadmin: -g: the realm must be set (-r REALM)' });
    expect(fs.existsSync(db), 'a refused command creates no database').toBe(false);
  });
});
