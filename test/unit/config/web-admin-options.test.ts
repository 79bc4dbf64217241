// The web admin page's options: off by default, coturn's defaults (127.0.0.1:8080), HTTPS
// with the server's cert and pkey, and never plain HTTP on an address other than loopback.
import { afterAll, describe, expect, it } from 'vitest';
import { makeCertificate } from '../../support/certs.js';
import { check, load, loadArgs, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

const TOKEN = '0123456789abcdef0123';

describe('web-admin options', () => {
  it('are off by default, and web-admin-ip alone is warned about', () => {
    expect(loadArgs([]).options.webAdmin).toBeUndefined();
    expect(load('web-admin-ip=127.0.0.1\n').warnings.join('\n')).toMatch(/:1: web-admin-ip has no effect without web-admin/);
  });

  it('serve plain HTTP on 127.0.0.1:8080 by default, with the admin token (without admin-port)', () => {
    const { options, warnings } = load(`web-admin\nadmin-token=${TOKEN}\n`);
    expect(options.webAdmin).toEqual({ address: '127.0.0.1', port: 8080, https: false, token: TOKEN });
    expect(warnings.join('\n')).not.toMatch(/admin/);
  });

  it('refuse plain HTTP on an address other than loopback, and take HTTPS there with cert and pkey', () => {
    expect(check(`web-admin\nweb-admin-ip=0.0.0.0\nadmin-token=${TOKEN}\n`).errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/:2: web-admin-ip: 0\.0\.0\.0 is not a loopback address and cert\/pkey are not set/),
    ]);
    const { cert, key } = makeCertificate();
    const secure = load(`web-admin\nweb-admin-ip=0.0.0.0\nweb-admin-port=8443\ncert=${cert}\npkey=${key}\nadmin-token=${TOKEN}\n`);
    expect(secure.options.webAdmin).toEqual({ address: '0.0.0.0', port: 8443, https: true, token: TOKEN });
  });

  it('warn when no one could log in: no token and no userdb', () => {
    expect(load('web-admin\n').warnings.join('\n')).toMatch(/:1: web-admin: no admin-token and no SQLite userdb .*no one can log in/);
  });
});
