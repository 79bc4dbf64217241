// `oauth` and `server-name`: on only when asked, and a warning when no database can hold the keys.
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { load, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

describe('oauth options', () => {
  it('are off by default, and the server name defaults to the realm', () => {
    const { options, warnings } = load('lt-cred-mech\nuser=a:b\nrealm=north.gov\n');
    expect(options.oauth).toBe(false);
    expect(options.serverName).toBe('north.gov');
    expect(warnings.join('\n')).not.toMatch(/oauth/);
  });

  it('take oauth and server-name, with a user database', () => {
    const db = path.join(tempDir(), 'turndb');
    const { options, warnings } = load(`lt-cred-mech\nrealm=north.gov\noauth\nserver-name=blackdow.carleon.gov\nuserdb=${db}\n`);
    expect(options.oauth).toBe(true);
    expect(options.serverName).toBe('blackdow.carleon.gov');
    expect(warnings.join('\n')).not.toMatch(/oauth/);
  });

  it('warn when no user database can hold oAuth keys', () => {
    const { warnings } = load('lt-cred-mech\nuser=a:b\nrealm=north.gov\noauth\n');
    expect(warnings.join('\n')).toMatch(/:4: oauth without userdb or redis-userdb: there are no oAuth keys/);
  });
});
