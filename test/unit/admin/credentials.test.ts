// `turnpike admin credentials`: REST API credentials from the server's configuration (a real
// turnserver.conf or flags), with the secret from the config or from the userdb.
import { createHmac } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { restExpiry } from '../../../src/auth/rest-api.js';
import { admin, newDbPath, ok, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

interface Printed {
  username: string;
  password: string;
  iceServers: { urls: string[]; username: string; credential: string }[];
}

/** Runs the command (which must succeed) and reads its three lines. */
async function credentials(...argv: string[]): Promise<Printed> {
  const lines = await ok('credentials', ...argv);
  expect(lines.map((l) => l.split(': ')[0])).toEqual(['username', 'password', 'iceServers']);
  const value = (i: number) => lines[i]?.slice(lines[i]?.indexOf(': ') + 2) ?? '';
  return { username: value(0), password: value(1), iceServers: JSON.parse(value(2)) as Printed['iceServers'] };
}

const hmac = (secret: string, text: string) => createHmac('sha1', secret).update(text).digest('base64');

describe('turnpike admin credentials', () => {
  it('signs <now+ttl>:user with the first static-auth-secret and prints an iceServers entry', async () => {
    const before = Math.floor(Date.now() / 1000);
    const c = await credentials(
      '--user', 'alice', '--ttl', '3600',
      '-n', '--static-auth-secret', 'first', '--static-auth-secret', 'second', '--realm', 'r.org',
      '--listening-ip', '127.0.0.1', '--listening-port', '3479',
    );
    const after = Math.floor(Date.now() / 1000);
    const [expiry, user] = c.username.split(':');
    expect(user).toBe('alice');
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 3600);
    expect(Number(expiry)).toBeLessThanOrEqual(after + 3600);
    expect(restExpiry(c.username, ':')).toBe(Number(expiry));
    expect(c.password).toBe(hmac('first', c.username));
    expect(c.iceServers).toEqual([
      { urls: ['turn:127.0.0.1:3479?transport=udp'], username: c.username, credential: c.password },
    ]);
  });

  it('reads a turnserver.conf: its separator, port and external-ip', async () => {
    const conf = path.join(tempDir(), 'turnserver.conf');
    fs.writeFileSync(
      conf,
      ['use-auth-secret', 'static-auth-secret=from-file', 'realm=conf.org', 'rest-api-separator=_',
        'listening-port=5000', 'listening-ip=10.0.0.2', 'external-ip=203.0.113.7/10.0.0.2', ''].join('\n'),
    );
    const c = await credentials('--user=bob', '--ttl=60', '-c', conf);
    expect(c.username).toMatch(/^\d+_bob$/);
    expect(c.password).toBe(hmac('from-file', c.username));
    expect(c.iceServers[0]?.urls).toEqual(['turn:203.0.113.7:5000?transport=udp']);
  });

  it('without static-auth-secret, uses the realm\'s oldest secret in the userdb (turnadmin -s)', async () => {
    const db = newDbPath();
    await ok('-s', 'oldest', '-b', db, '-r', 'north.gov');
    await ok('-s', 'a-newer-one', '-b', db, '-r', 'north.gov');
    await ok('-s', 'other-realm', '-b', db, '-r', 'south.gov');
    const c = await credentials('--user', 'alice', '-n', '--use-auth-secret', '--userdb', db, '--realm', 'north.gov');
    expect(c.password).toBe(hmac('oldest', c.username));
  });

  it('--host wins, IPv6 goes in brackets, an "any" listening-ip falls back to the host name', async () => {
    const base = ['-n', '--static-auth-secret', 's', '--realm', 'r'];
    expect((await credentials('--host', 'turn.example.com', ...base)).iceServers[0]?.urls).toEqual([
      'turn:turn.example.com:3478?transport=udp',
    ]);
    expect((await credentials(...base, '--listening-ip', '::1')).iceServers[0]?.urls).toEqual(['turn:[::1]:3478?transport=udp']);
    expect((await credentials(...base, '--listening-ip', '0.0.0.0')).iceServers[0]?.urls).toEqual([
      `turn:${os.hostname()}:3478?transport=udp`,
    ]);
  });

  it('without --user the username is the expiry alone; the default ttl is one day', async () => {
    const c = await credentials('-n', '--static-auth-secret', 's', '--realm', 'r');
    expect(c.username).toMatch(/^\d+$/);
    expect(Number(c.username) - Date.now() / 1000).toBeGreaterThan(86400 - 5);
  });

  it('refuses what cannot work, with exit 1', async () => {
    const run = (...argv: string[]) => admin('credentials', ...argv);
    const db = newDbPath();
    await ok('-a', '-b', db, '-u', 'x', '-r', 'north.gov', '-p', 'p');
    expect(await run('-n', '--lt-cred-mech', '--user', 'a', '--realm', 'r')).toMatchObject({
      code: 1,
      err: expect.stringMatching(/does not turn on the TURN REST API/),
    });
    expect((await run('-n', '--use-auth-secret', '--userdb', db, '--realm', 'north.gov')).err).toMatch(
      /realm "north.gov" has no secret in .* \(add one: turnadmin -s SECRET -r REALM -b /,
    );
    expect((await run('-n', '--use-auth-secret', '--userdb', `${db}.missing`, '--realm', 'r')).err).toMatch(/does not exist/);
    expect((await run('--ttl', '0', '-n', '--static-auth-secret', 's')).err).toBe(
      'turnpike admin credentials: --ttl: "0" is not a whole number of seconds above 0',
    );
    expect((await run('--user', 'a b', '-n', '--static-auth-secret', 's', '--realm', 'r')).code).toBe(1);
    expect((await run('-n', '--static-auth-secret', 's', '--no-such-flag')).err).toMatch(/configuration: .*--no-such-flag: unknown option/);
  });

  it('--help, and a missing value (exit 2)', async () => {
    expect((await admin('credentials', '--help')).out[0]).toMatch(/^Usage: turnpike admin credentials/);
    const r = await admin('credentials', '-n', '--ttl');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/option --ttl needs a value/);
  });
});
