// Static users and coturn's credential rules (users turn on lt-cred-mech, no-auth and
// use-auth-secret hide them), with Turnpike failing closed where coturn refuses to start.
import { afterAll, describe, expect, it } from 'vitest';
import { longTermKey } from '../../../src/stun/integrity.js';
import { load, loadError, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

const AUTH = 'lt-cred-mech\nrealm=example.org\n';

describe('users', () => {
  it('turns passwords into MD5(name:realm:password) keys, with the final realm', () => {
    const { options } = load(`lt-cred-mech\nuser=alice:secret\nrealm=late.org\n`);
    expect(options.users).toEqual([{ name: 'alice', key: longTermKey('alice', 'late.org', 'secret'), sha256Key: longTermKey('alice', 'late.org', 'secret', 'sha256') }]);
  });

  it('takes 0x keys of 32 hex digits as they are', () => {
    const { options } = load(`${AUTH}user=ninefingers:0xbc807ee29df3c9ffa736523fb2c4e8ee\n`);
    expect(options.users[0]?.key.toString('hex')).toBe('bc807ee29df3c9ffa736523fb2c4e8ee');
    // An MD5 key gives no SHA-256 one: that needs the password.
    expect(options.users[0]?.sha256Key).toBeUndefined();
  });

  it('refuses keys of any other length, users without a colon, and empty parts', () => {
    const err = loadError(() => load(`${AUTH}user=a:0xbc807e\nuser=bob\nuser=:pw\nuser=carol:\n`));
    expect(err.errors.map((e) => [e.line, e.option, e.detail])).toEqual([
      [3, 'user', 'the key of user "a" must be 0x and 32 hex digits'],
      [4, 'user', `the value has no ':'; write name:password or name:0x<key>`],
      [5, 'user', 'the user name is empty'],
      [6, 'user', 'user "carol" has an empty password'],
    ]);
  });

  it('keeps the last of two accounts with one name, with a warning', () => {
    const { options, warnings, file } = load(`${AUTH}user=a:1\nuser=a:2\n`);
    expect(options.users).toEqual([{ name: 'a', key: longTermKey('a', 'example.org', '2'), sha256Key: longTermKey('a', 'example.org', '2', 'sha256') }]);
    expect(warnings).toEqual([`${file}:4: user 'a' is given again; this later one counts`]);
  });
});

describe('credential rules (coturn’s, failing closed where coturn exits)', () => {
  it('turns lt-cred-mech on for user accounts, as coturn does, and says so', () => {
    const { options, warnings } = load('realm=r\nuser=a:b\n');
    expect(options.ltCredMech).toBe(true);
    expect(warnings).toEqual([expect.stringContaining('user accounts without lt-cred-mech: turning lt-cred-mech on')]);
  });

  it('runs anonymous with no-auth', () => {
    expect(load('no-auth\n')).toMatchObject({ options: { ltCredMech: false, noAuth: true }, warnings: [] });
  });

  it('requires credentials when lt-cred-mech and no-auth are both set', () => {
    const { options, warnings } = load(`${AUTH}no-auth\n`);
    expect(options).toMatchObject({ ltCredMech: true, noAuth: false });
    expect(warnings).toEqual([expect.stringContaining('coturn refuses to start; Turnpike requires credentials')]);
  });

  it('ignores users under no-auth, as coturn does', () => {
    const { options, warnings } = load('no-auth\nuser=a:b\n');
    expect(options).toMatchObject({ noAuth: true, users: [] });
    expect(warnings).toEqual([expect.stringContaining('the accounts are ignored and access is anonymous')]);
  });

  it('keeps static users beside use-auth-secret (coturn drops them), and reads every secret', () => {
    const { options, warnings } = load('realm=r\nuse-auth-secret\nstatic-auth-secret=s3cr;et#\nstatic-auth-secret=next\nuser=a:b\n');
    expect(options).toMatchObject({ ltCredMech: true, useAuthSecret: true, staticAuthSecrets: ['s3cr;et#', 'next'], restApiSeparator: ':' });
    expect(options.users.map((u) => u.name)).toEqual(['a']);
    expect(warnings.some((w) => w.includes('coturn ignores the accounts; Turnpike accepts both'))).toBe(true);
  });

  it('reads userdb and rest-api-separator', () => {
    const { options } = load('realm=r\nlt-cred-mech\nuserdb=/tmp/turndb\nrest-api-separator=-\n');
    expect(options).toMatchObject({ userDb: '/tmp/turndb', restApiSeparator: '-', useAuthSecret: false });
  });

});

describe('the realm when none is set', () => {
  const host = { hostname: 'turn-1.example' };

  it("is the host's name with long-term credentials, with password keys made for it, and says so", () => {
    const { options, warnings } = load('lt-cred-mech\nuser=alice:secret\n', [], host);
    expect(options.realm).toBe('turn-1.example');
    expect(options.users).toEqual([{ name: 'alice', key: longTermKey('alice', 'turn-1.example', 'secret'), sha256Key: longTermKey('alice', 'turn-1.example', 'secret', 'sha256') }]);
    expect(warnings).toEqual(['no realm is set: long-term credentials are served in realm "turn-1.example" (the host\'s name); set realm to choose it']);
  });

  it('is set for the TURN REST API alone (use-auth-secret turns long-term credentials on)', () => {
    expect(load('use-auth-secret\nstatic-auth-secret=s\n', [], host).options.realm).toBe('turn-1.example');
  });

  it('is "turnpike" when the host has no name', () => {
    const { options, warnings } = load('lt-cred-mech\n', [], { hostname: '' });
    expect(options.realm).toBe('turnpike');
    expect(warnings).toEqual([expect.stringContaining('realm "turnpike" (the host has no name)')]);
  });

  it('stays empty without long-term credentials, and a set realm is kept without a word', () => {
    expect(load('no-auth\n', [], host)).toMatchObject({ options: { realm: '' }, warnings: [] });
    expect(load('stun-only\n', [], host).options.realm).toBe('');
    expect(load(`${AUTH}user=a:b\n`, [], host)).toMatchObject({ options: { realm: 'example.org' }, warnings: [] });
  });

  it('warns that users given as keys work only if the key was made for that realm', () => {
    const { warnings } = load('lt-cred-mech\nuser=ninefingers:0xbc807ee29df3c9ffa736523fb2c4e8ee\nuser=bob:pw\n', [], host);
    expect(warnings).toContain(
      'user ninefingers given as a key (0x…): a key is made for one realm and works only if that is "turn-1.example" (the host\'s name); ' +
        'set realm to the one the key was made for (turnadmin -k -r REALM)',
    );
  });

  it('warns that the user database is read for that realm only', () => {
    const { warnings, file } = load('lt-cred-mech\nuserdb=/tmp/turndb\n', [], host);
    expect(warnings).toContain(
      `${file}:2: userdb is read for realm "turn-1.example" (the host's name): users, secrets and realm options stored for another realm (turnadmin -r) are not found; set realm to theirs`,
    );
  });
});

describe('SASLprep', () => {
  it('refuses names and passwords with prohibited characters, as coturn does', () => {
    const err = loadError(() => load(`${AUTH}user=bad\u0007name:pw\nuser=bob:bad\u0001pw\n`));
    expect(err.errors.map((e) => [e.line, e.detail])).toEqual([
      [3, 'the name of user "bad\u0007name" has a character SASLprep prohibits'],
      [4, 'the password of user "bob" has a character SASLprep prohibits'],
    ]);
  });

  it('maps the password before hashing it', () => {
    const { options } = load(`${AUTH}user=carol:pass\u00A0word\n`);
    expect(options.users[0]?.key).toEqual(longTermKey('carol', 'example.org', 'pass word'));
  });
});
