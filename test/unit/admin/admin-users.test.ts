// turnadmin -P, -A, -D, -L: coturn's encrypted passwords and its admin_user table.
import { describe, expect, it, afterAll } from 'vitest';
import { encryptPassword, verifyEncryptedPassword } from '../../../src/admin/index.js';
import { admin, newDbPath, ok, removeTempDirs, rows } from './helpers.js';

afterAll(removeTempDirs);

const ENCRYPTED = /^\$5\$[0-9a-f]{16}\$[0-9a-f]{64}$/;

describe("coturn's encrypted password", () => {
  it('matches what coturn 4.6.1 printed for `turnadmin -P -p hello`', async () => {
    // coturn printed $5$d0a915d2bbfe58f8$160abd…fe1: salt bytes, then SHA-256(salt ‖ password).
    const coturns = '$5$d0a915d2bbfe58f8$160abd3ef3034bea28323899467f22cda980f589c8b2fd51abb3954e30610fe1';
    expect(encryptPassword('hello', Buffer.from('d0a915d2bbfe58f8', 'hex'))).toBe(coturns);
    expect(verifyEncryptedPassword('hello', coturns)).toBe(true);
    expect(verifyEncryptedPassword('hellO', coturns)).toBe(false);
    expect(verifyEncryptedPassword('hello', 'hello')).toBe(false);
  });

  it('-P prints a fresh salt each time, and only the encrypted form', async () => {
    const a = await admin('-P', '-p', 'hello');
    const b = await admin('--generate-encrypted-password', '--password=hello');
    expect(a.code).toBe(0);
    expect(a.err).toBe('');
    expect(a.out).toHaveLength(1);
    expect(a.out[0]).toMatch(ENCRYPTED);
    expect(b.out[0]).not.toBe(a.out[0]);
    expect(verifyEncryptedPassword('hello', a.out[0] ?? '')).toBe(true);
    expect(verifyEncryptedPassword('hello', b.out[0] ?? '')).toBe(true);
  });

  it('-P without -p is an error (exit 1)', async () => {
    expect(await admin('-P')).toMatchObject({ code: 1, err: 'turnadmin: -P: the password must be set (-p PASSWORD)' });
  });
});

describe('admin users', () => {
  it('-A stores the password encrypted; -L lists name[realm], or name alone without a realm', async () => {
    const db = newDbPath();
    await ok('-A', '-b', db, '-u', 'root', '-p', 'pw1');
    await ok('-A', '-b', db, '-u', 'north-admin', '-r', 'north.gov', '-p', 'pw2');
    await ok('--add-admin', '--db', db, '--user', 'another', '--realm', 'north.gov', '--password', 'pw3');
    expect(await ok('-L', '-b', db)).toEqual(['root', 'another[north.gov]', 'north-admin[north.gov]']);

    const stored = rows(db, 'SELECT name, realm, password FROM admin_user ORDER BY name') as {
      name: string;
      realm: string;
      password: string;
    }[];
    expect(stored.map((r) => [r.name, r.realm])).toEqual([
      ['another', 'north.gov'],
      ['north-admin', 'north.gov'],
      ['root', ''],
    ]);
    for (const r of stored) expect(r.password).toMatch(ENCRYPTED);
    expect(verifyEncryptedPassword('pw1', stored[2]?.password ?? '')).toBe(true);
    expect(verifyEncryptedPassword('pw2', stored[1]?.password ?? '')).toBe(true);
  });

  it('-L lists every admin user whatever -r says, as coturn does', async () => {
    const db = newDbPath();
    await ok('-A', '-b', db, '-u', 'a', '-r', 'x.org', '-p', 'p');
    await ok('-A', '-b', db, '-u', 'b', '-r', 'y.org', '-p', 'p');
    expect(await ok('-L', '-b', db, '-r', 'x.org')).toEqual(['a[x.org]', 'b[y.org]']);
  });

  it('-A again replaces the password; an already encrypted one is encrypted again, as coturn does', async () => {
    const db = newDbPath();
    await ok('-A', '-b', db, '-u', 'root', '-p', 'old');
    const encrypted = (await ok('-P', '-p', 'new'))[0] ?? '';
    await ok('-A', '-b', db, '-u', 'root', '-p', encrypted);
    const [row] = rows(db, 'SELECT password FROM admin_user') as { password: string }[];
    expect(verifyEncryptedPassword(encrypted, row?.password ?? '')).toBe(true);
    expect(verifyEncryptedPassword('old', row?.password ?? '')).toBe(false);
  });

  it('-D deletes; -D of an unknown name is a note, exit 0', async () => {
    const db = newDbPath();
    await ok('-A', '-b', db, '-u', 'root', '-p', 'p');
    await ok('-A', '-b', db, '-u', 'other', '-p', 'p');
    expect(await ok('-D', '-b', db, '-u', 'root')).toEqual([]);
    expect(await ok('-L', '-b', db)).toEqual(['other']);
    const r = await admin('-D', '-b', db, '-u', 'root');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/no admin user "root"/);
  });

  it('-A needs -u and -p', async () => {
    const db = newDbPath();
    expect(await admin('-A', '-b', db, '-p', 'p')).toMatchObject({ code: 1, err: 'turnadmin: -A: the user must be set (-u USER)' });
    expect(await admin('-A', '-b', db, '-u', 'x')).toMatchObject({
      code: 1,
      err: 'turnadmin: -A: the password must be set (-p PASSWORD)',
    });
    expect(await admin('-D', '-b', db)).toMatchObject({ code: 1, err: 'turnadmin: -D: the user must be set (-u USER)' });
  });
});
